import { formatAmount, parseAmount } from '../../../workers/lib/amounts.ts';
import { BotError, type BotContext, type CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';
import { nodeOption } from './nodes.ts';

// Bonding and unbonding go through the staking domain's own operations (ctx.ops.bond / unbond:
// addStake / unstake, the functions behind /v1/staking), each one ledger transaction with its
// idempotency key.

function amountOption(ctx: BotContext): number {
  const parsed = parseAmount(String(ctx.options.amount ?? '').trim(), ctx.config.TOKEN_DECIMALS);
  if (!parsed.ok || parsed.baseUnits <= 0) throw new BotError('invalid_amount', 'Give the amount in tokens, for example 250 or 12.5.');
  return parsed.baseUnits;
}

function nodeIdOption(ctx: BotContext): string {
  const id = String(ctx.options.node ?? '').trim();
  if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(id)) throw new BotError('invalid_node', 'Pick a node from the list or paste its id.');
  return id;
}

/** One key per chat request, from its update/interaction id: a platform retry of it cannot bond twice. */
const chatKey = (ctx: BotContext, verb: string) => `chat:${ctx.platform}:${ctx.user.id}:${verb}:${ctx.eventId}`;

export const stakeCommand: CommandSpec = {
  name: 'stake',
  description: 'Your stakes, or bond more on a node',
  personal: true,
  slow: true,
  options: [{ ...nodeOption, required: false }, { name: 'amount', description: 'Tokens to bond, e.g. 250', type: 'string', maxLength: 40 }],
  async run(ctx) {
    const account = await ctx.requireLinked();
    const d = ctx.config.TOKEN_DECIMALS;
    if (ctx.options.amount !== undefined) {
      const nodeId = nodeIdOption(ctx);
      const amount = amountOption(ctx);
      const bonded = await ctx.ops.bond({ accountId: account, nodeId, amount, idempotencyKey: chatKey(ctx, 'stake') }, ctx.nowMs);
      if (!bonded) throw new BotError('node_not_found', 'There is no node with that id.');
      const { node } = bonded;
      return privateReply({ title: 'Staked', blocks: [`${formatAmount(amount, d)} tokens bonded on ${node.name}.`], tone: 'success' });
    }
    const rows = await ctx.ops.stakes(account, 25);
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
    const account = await ctx.requireLinked();
    const amount = amountOption(ctx);
    const { unbonding } = await ctx.ops.unbond({ accountId: account, nodeId: nodeIdOption(ctx), amount, idempotencyKey: chatKey(ctx, 'unstake') }, ctx.nowMs);
    return privateReply({
      title: 'Unbonding',
      blocks: [`${formatAmount(amount, ctx.config.TOKEN_DECIMALS)} tokens stop earning and voting now and are released at ${new Date(unbonding.releaseAt).toISOString()}.`],
      tone: 'success',
    });
  },
};

export const rewardsCommand: CommandSpec = {
  name: 'rewards',
  description: 'Your rewards over the last epochs',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const rows = await ctx.ops.rewardsPerEpoch(account, 10);
    const d = ctx.config.TOKEN_DECIMALS;
    return privateReply({
      title: 'Your rewards',
      blocks: [rows.length ? rows.map((r) => `epoch ${r.epoch}: ${formatAmount(r.amount, d)}`).join('\n') : 'No rewards yet.'],
    });
  },
};
