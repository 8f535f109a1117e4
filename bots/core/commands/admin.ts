import type { CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';

export const adminCommand: CommandSpec = {
  name: 'admin',
  description: 'gridplane admins only',
  admin: true,
  subcommands: [
    {
      name: 'governance-tick',
      description: 'Close due proposals and execute due ones now, as the cron would',
      slow: true,
      personal: true,
      async run(ctx) {
        const events = await ctx.ops.governanceTick(ctx.nowMs);
        return privateReply({
          title: 'Governance tick',
          blocks: [
            events.length
              ? events.map((e) => `${e.kind}: ${e.proposalId}${'status' in e ? ` → ${e.status}` : ''}`).join('\n')
              : 'Nothing was due.',
          ],
        });
      },
    },
  ],
};
