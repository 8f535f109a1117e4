import { desc, eq, sql } from 'drizzle-orm';
import { rewardShares, stakes } from '../../../db/schema.ts';
import { formatAmount } from '../../../workers/lib/amounts.ts';
import { BotError, type CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';
import { nodeOption } from './nodes.ts';

// Bonding and unbonding move tokens through the staking domain's ledger operations
// (workers/staking, in progress); these commands call them once they are exported. Reading
// stakes and rewards works now.

const unavailable = (what: string) =>
  new BotError('unavailable', `${what} from chat is not available yet; it arrives with the staking API.`);

export const stakeCommand: CommandSpec = {
  name: 'stake',
  description: 'Your stakes, or bond more on a node',
  personal: true,
  slow: true,
  options: [{ ...nodeOption, required: false }, { name: 'amount', description: 'Tokens to bond, e.g. 250', type: 'string', maxLength: 40 }],
  async run(ctx) {
    const account = await ctx.requireLinked();
    if (ctx.options.amount !== undefined) throw unavailable('Staking');
    const rows = await ctx.db.select().from(stakes).where(eq(stakes.accountId, account)).orderBy(desc(stakes.amount)).limit(25);
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: 'Your stake',
      blocks: [rows.length ? rows.map((s) => `${formatAmount(s.amount, d)} on ${s.nodeId}`).join('\n') : 'You have no bonded stake.'],
    });
  },
};

export const unstakeCommand: CommandSpec = {
  name: 'unstake',
  description: 'Start unbonding stake from a node',
  personal: true,
  slow: true,
  options: [nodeOption, { name: 'amount', description: 'Tokens to unbond', type: 'string', required: true, maxLength: 40 }],
  async run(ctx) {
    await ctx.requireLinked();
    throw unavailable('Unstaking');
  },
};

export const rewardsCommand: CommandSpec = {
  name: 'rewards',
  description: 'Your rewards over the last epochs',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const rows = await ctx.db
      .select({ epoch: rewardShares.epoch, amount: sql<number>`SUM(${rewardShares.amount})` })
      .from(rewardShares)
      .where(eq(rewardShares.accountId, account))
      .groupBy(rewardShares.epoch)
      .orderBy(desc(rewardShares.epoch))
      .limit(10);
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: 'Your rewards',
      blocks: [rows.length ? rows.map((r) => `epoch ${r.epoch}: ${formatAmount(r.amount, d)}`).join('\n') : 'No rewards yet.'],
    });
  },
};
