import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

// Governance: proposals, their voting-power snapshots and votes, and the parameter store that
// executed `param` proposals write. Every record is described in workers/governance/README.md.
// Amounts and voting power are integers in base units of the token; times are Unix milliseconds.

export const PROPOSAL_KINDS = ['grant', 'param', 'text'] as const;
export type ProposalKind = (typeof PROPOSAL_KINDS)[number];

/** open → passed | rejected; passed → (timelock) → executed | failed. A trigger refuses any other move. */
export const PROPOSAL_STATUSES = ['open', 'passed', 'rejected', 'executed', 'failed'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const VOTE_CHOICES = ['yes', 'no', 'abstain'] as const;
export type VoteChoice = (typeof VOTE_CHOICES)[number];

export const proposals = sqliteTable(
  'proposals',
  {
    id: text('id').primaryKey(),
    /** Small sequential number people can type (`/vote proposal:12`); the id stays the key. */
    number: integer('number').notNull().unique(),
    kind: text('kind', { enum: PROPOSAL_KINDS }).notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    proposerAccountId: text('proposer_account_id').notNull(),
    status: text('status', { enum: PROPOSAL_STATUSES }).notNull().default('open'),
    /** grant: the account credited and the base units it gets from the community treasury. */
    grantRecipient: text('grant_recipient'),
    grantAmount: integer('grant_amount'),
    /** param: a whitelisted name (workers/governance/param-defs.ts) and its new value as JSON. */
    paramName: text('param_name'),
    paramValue: text('param_value'),
    /** The rules as they stood at opening: later parameter changes do not move running votes. */
    quorumBps: integer('quorum_bps').notNull(),
    thresholdBps: integer('threshold_bps').notNull(),
    timelockMs: integer('timelock_ms').notNull(),
    /** Σ proposal_power of this proposal: everything staked at the snapshot. */
    totalPower: integer('total_power').notNull().default(0),
    openedAt: integer('opened_at').notNull(),
    votingEndsAt: integer('voting_ends_at').notNull(),
    /** Final tally, written when voting closes. */
    yesPower: integer('yes_power'),
    noPower: integer('no_power'),
    abstainPower: integer('abstain_power'),
    closedAt: integer('closed_at'),
    /** passed: votingEndsAt + timelock; the cron executes it at or after this time. */
    executableAt: integer('executable_at'),
    executedAt: integer('executed_at'),
    /** grant: the ledger transaction (idempotency key `proposal:<id>:execute`). */
    executionTxId: text('execution_tx_id'),
    /** failed / rejected: why, in a few words (`insufficient_treasury`, `no_quorum` …). */
    outcomeReason: text('outcome_reason'),
    /**
     * The opener's idempotency key, scoped by who sent it (`chat:<platform>:<event id>`,
     * `api:<account>:<Idempotency-Key>`): a retried chat update or request opens one proposal.
     */
    idempotencyKey: text('idempotency_key').unique(),
  },
  (t) => [
    index('proposals_status_idx').on(t.status, t.votingEndsAt),
    index('proposals_due_idx').on(t.status, t.executableAt),
    check('proposals_grant_fields', sql`(${t.kind} = 'grant') = (${t.grantRecipient} IS NOT NULL AND ${t.grantAmount} > 0)`),
    check('proposals_param_fields', sql`(${t.kind} = 'param') = (${t.paramName} IS NOT NULL AND ${t.paramValue} IS NOT NULL)`),
  ],
);

/** The snapshot: each account's active stake when the proposal opened. Written once, in the opening batch. */
export const proposalPower = sqliteTable(
  'proposal_power',
  {
    proposalId: text('proposal_id')
      .notNull()
      .references(() => proposals.id),
    accountId: text('account_id').notNull(),
    power: integer('power').notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.accountId] }), check('proposal_power_positive', sql`${t.power} > 0`)],
);

/** One row per account per proposal; a later vote replaces the choice until voting closes. */
export const votes = sqliteTable(
  'votes',
  {
    proposalId: text('proposal_id')
      .notNull()
      .references(() => proposals.id),
    accountId: text('account_id').notNull(),
    choice: text('choice', { enum: VOTE_CHOICES }).notNull(),
    /** Copied from proposal_power when cast, so a tally is one GROUP BY over this table. */
    power: integer('power').notNull(),
    /** Where it came from: `api`, `discord`, `telegram`. */
    via: text('via').notNull(),
    castAt: integer('cast_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.accountId] })],
);

/** Where a proposal was announced on a chat platform, so its live tally can be edited in place. */
export const proposalPosts = sqliteTable(
  'proposal_posts',
  {
    proposalId: text('proposal_id')
      .notNull()
      .references(() => proposals.id),
    platform: text('platform', { enum: ['discord', 'telegram'] }).notNull(),
    channelId: text('channel_id').notNull(),
    messageId: text('message_id'),
    /** The last status announced there; claimed before posting so an outcome is announced once. */
    announcedStatus: text('announced_status', { enum: PROPOSAL_STATUSES }).notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.platform] })],
);

/** The parameter store: executed `param` proposals write here; absent names use their defaults. */
export const params = sqliteTable('params', {
  name: text('name').primaryKey(),
  /** JSON of the typed value. */
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
  /** The proposal that set it; null for an operator's seed. */
  proposalId: text('proposal_id'),
});
