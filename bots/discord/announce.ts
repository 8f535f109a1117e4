import { Routes } from 'discord-api-types/v10';
import type { GovernanceDeps, ProposalAnnouncement } from '../../workers/governance/governance-deps.ts';
import { announceInChannel } from '../proposal-posts.ts';
import { outcomeReply, proposalReply } from '../core/views/proposal.ts';
import { renderDiscord } from './render.ts';
import { discordRest } from './rest.ts';

// Governance in the Discord channel (DISCORD_GOVERNANCE_CHANNEL_ID): a new proposal is posted
// with Yes / No / Abstain buttons, the message is edited as votes come in, and the outcome is
// edited in and announced beside it; bots/proposal-posts.ts makes each happen once.

export async function announceOnDiscord(deps: GovernanceDeps, a: ProposalAnnouncement): Promise<void> {
  const { config } = deps;
  const channelId = config.DISCORD_GOVERNANCE_CHANNEL_ID;
  if (!config.DISCORD_BOT_TOKEN || !channelId) return;
  const rest = discordRest(config);
  await announceInChannel(deps, a, {
    platform: 'discord',
    channelId,
    post: async (view) =>
      ((await rest.post(Routes.channelMessages(channelId), { body: renderDiscord(proposalReply(view)) })) as { id: string }).id,
    edit: async (m, view) => {
      await rest.patch(Routes.channelMessage(m.channelId, m.messageId), { body: renderDiscord(proposalReply(view)) });
    },
    replyOutcome: async (m, view) => {
      await rest.post(Routes.channelMessages(m.channelId), {
        body: { ...renderDiscord(outcomeReply(view)), message_reference: { message_id: m.messageId, fail_if_not_exists: false } },
      });
    },
  });
}
