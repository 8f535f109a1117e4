import { formatAmount } from '../../../workers/lib/amounts.ts';
import { untilTime } from '../../../workers/lib/human-time.ts';
import { PARAM_DEFS, PARAM_NAMES } from '../../../workers/governance/param-defs.ts';
import { PROPOSAL_KINDS, PROPOSAL_STATUSES, VOTE_CHOICES, type VoteChoice } from '../../../workers/governance/proposal-input.schema.ts';
import { BotError, type ActionSpec, type BotContext, type CommandSpec, type OptionSpec } from '../command.ts';
import { privateReply, reply, type Choice } from '../reply.ts';
import { proposalLine, proposalReply } from '../views/proposal.ts';

const str = (ctx: BotContext, name: string) => {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
};

async function openProposalChoices(ctx: BotContext, typed: string): Promise<Choice[]> {
  const rows = await ctx.ops.findOpenProposals(typed.trim(), ctx.nowMs);
  return rows.map((p) => ({ name: `#${p.number} ${p.title}`.slice(0, 100), value: String(p.number) }));
}

const proposalOption = (description: string): OptionSpec => ({
  name: 'proposal',
  description,
  type: 'string',
  required: true,
  maxLength: 40,
  autocomplete: openProposalChoices,
});

const proposalRef = (ctx: BotContext) => {
  const ref = (str(ctx, 'proposal') ?? '').trim().replace(/^#/, '');
  if (!/^(prop_[0-9a-f]{32}|[1-9][0-9]{0,9})$/.test(ref))
    throw new BotError('invalid_proposal', 'Name a proposal by its number, for example 12.');
  return ref;
};

const create: CommandSpec = {
  name: 'create',
  description: 'Open a proposal (needs the minimum stake)',
  slow: true,
  options: [
    {
      name: 'kind',
      description: 'grant, param or text',
      type: 'string',
      required: true,
      choices: PROPOSAL_KINDS.map((k) => ({ name: k, value: k })),
    },
    { name: 'title', description: 'One line saying what it is', type: 'string', required: true, maxLength: 120 },
    { name: 'description', description: 'Why, and what it pays for', type: 'string', maxLength: 2000 },
    { name: 'recipient', description: 'grant: account id or wallet address', type: 'string', maxLength: 64 },
    { name: 'amount', description: 'grant: tokens, e.g. 1500.5', type: 'string', maxLength: 40 },
    {
      name: 'param',
      description: 'param: which parameter',
      type: 'string',
      choices: PARAM_NAMES.map((n) => ({ name: `${n} — ${PARAM_DEFS[n].description}`.slice(0, 100), value: n })),
    },
    { name: 'value', description: 'param: the new value (tokens for amounts)', type: 'string', maxLength: 40 },
  ],
  async run(ctx) {
    const account = await ctx.requireLinked();
    const recipient = str(ctx, 'recipient');
    const amount = str(ctx, 'amount');
    const param = str(ctx, 'param');
    const value = str(ctx, 'value');
    const view = await ctx.ops.createProposal(
      account,
      {
        kind: str(ctx, 'kind'),
        title: str(ctx, 'title'),
        description: str(ctx, 'description') ?? '',
        ...(recipient !== undefined || amount !== undefined ? { grant: { recipient: recipient ?? '', amount: amount ?? '' } } : {}),
        ...(param !== undefined || value !== undefined ? { param: { name: param ?? '', value: value ?? '' } } : {}),
      },
      ctx.nowMs,
      `chat:${ctx.platform}:${ctx.eventId}`,
    ); // a retried update opens nothing twice
    return reply({
      title: `Proposal #${view.number} is open`,
      blocks: [
        `"${view.title}" is open for votes ${view.votingEndsAt ? untilTime(Date.parse(view.votingEndsAt), ctx.nowMs) : 'until it is closed'}. It was posted to the governance channel.`,
      ],
      tone: 'success',
    });
  },
};

const list: CommandSpec = {
  name: 'list',
  description: 'Recent proposals',
  options: [
    {
      name: 'status',
      description: 'Only proposals in this state',
      type: 'string',
      choices: PROPOSAL_STATUSES.map((s) => ({ name: s, value: s })),
    },
  ],
  async run(ctx) {
    const status = str(ctx, 'status') as (typeof PROPOSAL_STATUSES)[number] | undefined;
    const { proposals } = await ctx.ops.listProposals({ status, limit: 10 }, ctx.nowMs);
    return reply({
      title: status ? `Proposals (${status})` : 'Recent proposals',
      blocks: [proposals.length === 0 ? 'No proposals yet.' : proposals.map(proposalLine).join('\n')],
    });
  },
};

const show: CommandSpec = {
  name: 'show',
  description: 'A proposal with its tally',
  options: [proposalOption('Proposal number')],
  async run(ctx) {
    return proposalReply(await ctx.ops.showProposal(proposalRef(ctx), ctx.nowMs));
  },
};

export const proposalCommand: CommandSpec = {
  name: 'proposal',
  description: 'Governance proposals',
  subcommands: [create, list, show],
};

async function vote(ctx: BotContext, ref: string, choice: VoteChoice) {
  const account = await ctx.requireLinked();
  const result = await ctx.ops.vote({ proposalRef: ref, accountId: account, choice, via: ctx.platform }, ctx.nowMs);
  const power = formatAmount(result.power, ctx.config.TOKEN_DECIMALS);
  return privateReply({
    title: result.replaced ? 'Vote changed' : 'Vote recorded',
    blocks: [
      `You voted ${choice} on proposal #${result.proposal.number} with ${power} tokens of voting power.`,
      'You can change your vote until voting closes.',
    ],
    tone: 'success',
  });
}

export const voteCommand: CommandSpec = {
  name: 'vote',
  description: 'Vote on an open proposal with your stake',
  personal: true,
  options: [
    proposalOption('Open proposal'),
    { name: 'choice', description: 'Your vote', type: 'string', required: true, choices: VOTE_CHOICES.map((c) => ({ name: c, value: c })) },
  ],
  async run(ctx) {
    const choice = str(ctx, 'choice');
    if (!(VOTE_CHOICES as readonly string[]).includes(choice ?? '')) throw new BotError('invalid_choice', 'Vote yes, no or abstain.');
    return vote(ctx, proposalRef(ctx), choice as VoteChoice);
  },
};

/** The Yes / No / Abstain buttons under a proposal: `vote:<number>:<choice>`. */
export const voteAction: ActionSpec = {
  name: 'vote',
  personal: true,
  slow: true,
  async run(ctx, [ref = '', choice = '']) {
    if (!/^[1-9][0-9]{0,9}$/.test(ref) || !(VOTE_CHOICES as readonly string[]).includes(choice)) {
      throw new BotError('invalid_action', 'This button is not a vote.');
    }
    return { reply: await vote(ctx, ref, choice as VoteChoice) };
  },
};
