import { formatAmount, parseAmount } from '../../../workers/lib/amounts.ts';
import { BotError, type BotContext, type CommandSpec } from '../command.ts';
import { privateReply, type Choice } from '../reply.ts';
import { relativeTime, dayTime } from '../../../workers/lib/human-time.ts';
import { namedNode, nodeOption } from './nodes.ts';

// Bonding and unbonding go through the staking domain's own operations (ctx.ops.bond / unbond:
// addStake / unstake, the functions behind /v1/staking), each one ledger transaction with its
// idempotency key.

function amountOption(ctx: BotContext): number {
  const parsed = parseAmount(String(ctx.options.amount ?? '').trim(), ctx.config.TOKEN_DECIMALS);
  if (!parsed.ok || parsed.baseUnits <= 0) throw new BotError('invalid_amount', 'Give the amount in tokens, for example 250 or 12.5.');
  return parsed.baseUnits;
}

/** The nodes the caller has bonded stake on, whose name or id starts as typed: what /unstake can name. */
async function stakedNodeChoices(ctx: BotContext, typed: string): Promise<Choice[]> {
  const account = await ctx.linkedAccount();
  if (!account) return [];
  const rows = (await ctx.ops.stakes(account, 100)).filter((s) => s.amount > 0);
  const names = await ctx.ops.nodeNames(rows.map((s) => s.nodeId));
  const t = typed.trim().toLowerCase();
  return rows
    .filter((s) => (names.get(s.nodeId) ?? '').toLowerCase().startsWith(t) || s.nodeId.toLowerCase().startsWith(t))
    .slice(0, 25)
    .map((s) => ({
      name: `${names.get(s.nodeId) ?? s.nodeId} — ${formatAmount(s.amount, ctx.config.TOKEN_DECIMALS)} staked`.slice(0, 100),
      value: s.nodeId,
    }));
}

/** One key per chat request, from its update/interaction id: a platform retry of it cannot bond twice. */
const chatKey = (ctx: BotContext, verb: string) => `chat:${ctx.platform}:${ctx.user.id}:${verb}:${ctx.eventId}`;

export const stakeCommand: CommandSpec = {
  name: 'stake',
  description: 'Your stakes, or bond more on a node',
  personal: true,
  slow: true,
  options: [
    { ...nodeOption, required: false },
    { name: 'amount', description: 'Tokens to bond, e.g. 250', type: 'string', maxLength: 40 },
  ],
  async run(ctx) {
    const account = await ctx.requireLinked();
    const d = ctx.config.TOKEN_DECIMALS;
    if (ctx.options.amount !== undefined) {
      const amount = amountOption(ctx);
      // Any node by its name or id: an operator's own (stake) or anyone else's (delegation).
      const target = await namedNode(ctx, String(ctx.options.node ?? ''), {
        retry: (id) => `/stake ${id} ${String(ctx.options.amount).trim()}`,
      });
      const bonded = await ctx.ops.bond(
        { accountId: account, nodeId: target.id, amount, idempotencyKey: chatKey(ctx, 'stake') },
        ctx.nowMs,
      );
      if (!bonded) throw new BotError('node_not_found', 'There is no node with that id.');
      const { node } = bonded;
      return privateReply({ title: 'Staked', blocks: [`${formatAmount(amount, d)} tokens bonded on ${node.name}.`], tone: 'success' });
    }
    const rows = await ctx.ops.stakes(account, 25);
    const names = await ctx.ops.nodeNames(rows.map((s) => s.nodeId));
    return privateReply({
      title: 'Your stake',
      blocks: [
        rows.length
          ? rows
              .map((s) => `${formatAmount(s.amount, d)} on ${names.get(s.nodeId) ?? 'a removed node'} (${s.nodeId.slice(0, 8)}…)`)
              .join('\n')
          : 'You have no bonded stake. /stake <node> <amount> bonds some: /nodes lists the online nodes.',
      ],
    });
  },
};

export const unstakeCommand: CommandSpec = {
  name: 'unstake',
  description: 'Start unbonding stake from a node',
  personal: true,
  slow: true,
  options: [
    { ...nodeOption, autocomplete: stakedNodeChoices },
    { name: 'amount', description: 'Tokens to unbond', type: 'string', required: true, maxLength: 40 },
  ],
  async run(ctx) {
    const account = await ctx.requireLinked();
    const amount = amountOption(ctx);
    // Only the nodes this account has stake on: a name shared with other nodes rarely is among them.
    const staked = new Set((await ctx.ops.stakes(account, 100)).filter((s) => s.amount > 0).map((s) => s.nodeId));
    const node = await namedNode(ctx, String(ctx.options.node ?? ''), {
      among: staked,
      retry: (id) => `/unstake ${id} ${String(ctx.options.amount).trim()}`,
      none: 'You have no bonded stake on a node by that name or id; /stake lists yours.',
    });
    const { unbonding } = await ctx.ops.unbond(
      { accountId: account, nodeId: node.id, amount, idempotencyKey: chatKey(ctx, 'unstake') },
      ctx.nowMs,
    );
    return privateReply({
      title: 'Unbonding',
      blocks: [
        `${formatAmount(amount, ctx.config.TOKEN_DECIMALS)} tokens on ${node.name} stop earning and voting now and are released on ${dayTime(unbonding.releaseAt, ctx.nowMs)} (${relativeTime(unbonding.releaseAt, ctx.nowMs)}).`,
      ],
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
