import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { proposals, votes, type ProposalKind, type ProposalStatus, type VoteChoice } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { runBatch } from '../ledger/d1-batch.ts';
import type { ParamName, Params } from './param-defs.ts';
import type { ProposalRules } from './proposal-rules.ts';
import { BONDED_STAKE_BY_ACCOUNT, BONDED_STAKE_OF_ACCOUNT } from './stake-source.ts';
import { emptyTally, type Tally } from './tally.ts';

export type ProposalRow = typeof proposals.$inferSelect;

export interface NewProposal {
  proposerAccountId: string;
  kind: ProposalKind;
  title: string;
  description: string;
  grant?: { recipient: string; amount: number };
  param?: { name: ParamName; value: number };
}

/**
 * Opens a proposal and takes its voting-power snapshot in one D1 batch (one SQLite transaction,
 * so the snapshot is consistent with the stake check):
 *   1. the proposal row, inserted only when the proposer's bonded stake reaches the minimum and
 *      the idempotency key is unused;
 *   2. proposal_power: every account's bonded stake, one INSERT … SELECT … GROUP BY;
 *   3. total_power = Σ of the snapshot.
 * False when no row was inserted (stake below the minimum, or the key already used); the
 * service decides which (governance.service.ts).
 */
export async function insertProposal(
  db: Db,
  id: string,
  input: NewProposal,
  rules: ProposalRules,
  params: Params,
  nowMs: number,
  idempotencyKey: string | null,
): Promise<boolean> {
  const client = db.$client;
  const [inserted] = await runBatch(db, [
    client
      .prepare(
        `INSERT INTO proposals (id, number, kind, title, description, proposer_account_id, status, grant_recipient, grant_amount,
           param_name, param_value, quorum_bps, threshold_bps, timelock_ms, total_power, opened_at, voting_ends_at, idempotency_key)
         SELECT ?1, COALESCE((SELECT MAX(number) FROM proposals), 0) + 1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, ?13, ?14, ?16
         WHERE (${BONDED_STAKE_OF_ACCOUNT.replaceAll('?1', '?5')}) >= ?15
         ON CONFLICT (idempotency_key) DO NOTHING`,
      )
      .bind(
        id,
        input.kind,
        input.title,
        input.description,
        input.proposerAccountId,
        input.grant?.recipient ?? null,
        input.grant?.amount ?? null,
        input.param?.name ?? null,
        input.param === undefined ? null : JSON.stringify(input.param.value),
        rules.quorumBps,
        rules.thresholdBps,
        rules.timelockS * 1000,
        nowMs,
        nowMs + params.voting_period_s * 1000,
        params.proposal_min_stake,
        idempotencyKey,
      ),
    client
      .prepare(
        `INSERT INTO proposal_power (proposal_id, account_id, power)
         SELECT ?1, s.account_id, s.power FROM (${BONDED_STAKE_BY_ACCOUNT}) s
         WHERE EXISTS (SELECT 1 FROM proposals WHERE id = ?1)`,
      )
      .bind(id),
    client
      .prepare(
        `UPDATE proposals SET total_power = (SELECT COALESCE(SUM(power), 0) FROM proposal_power WHERE proposal_id = ?1) WHERE id = ?1`,
      )
      .bind(id),
  ]);
  return inserted!.meta.changes === 1;
}

/** The proposal an earlier request with this idempotency key opened. */
export function proposalByKey(db: Db, idempotencyKey: string): Promise<ProposalRow | undefined> {
  return db.select().from(proposals).where(eq(proposals.idempotencyKey, idempotencyKey)).get();
}

/** By id (`prop_…`) or by number ("12"). */
export async function findProposal(db: Db, ref: string): Promise<ProposalRow | undefined> {
  if (/^[1-9][0-9]{0,9}$/.test(ref))
    return db
      .select()
      .from(proposals)
      .where(eq(proposals.number, Number(ref)))
      .get();
  return db.select().from(proposals).where(eq(proposals.id, ref)).get();
}

export interface ListOptions {
  status?: ProposalStatus;
  /** Keyset: proposals numbered below this. */
  beforeNumber?: number;
  limit: number;
}

export async function listProposals(db: Db, options: ListOptions): Promise<ProposalRow[]> {
  return db
    .select()
    .from(proposals)
    .where(
      and(
        options.status ? eq(proposals.status, options.status) : undefined,
        options.beforeNumber === undefined ? undefined : lt(proposals.number, options.beforeNumber),
      ),
    )
    .orderBy(desc(proposals.number))
    .limit(options.limit);
}

/** Open proposals whose title or number starts like `prefix`, for autocomplete. */
export async function searchOpenProposals(db: Db, prefix: string, nowMs: number, limit = 25): Promise<ProposalRow[]> {
  const like = `%${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
  return db
    .select()
    .from(proposals)
    .where(
      and(
        eq(proposals.status, 'open'),
        sql`${proposals.votingEndsAt} > ${nowMs}`,
        prefix ? sql`(${proposals.title} LIKE ${like} ESCAPE '\\' OR CAST(${proposals.number} AS TEXT) LIKE ${`${prefix}%`})` : undefined,
      ),
    )
    .orderBy(desc(proposals.number))
    .limit(limit);
}

/** The running (or final) tally: one GROUP BY over the votes, each carrying its snapshot power. */
export async function tallyProposal(db: Db, proposalId: string): Promise<Tally & { voters: number }> {
  const rows = await db
    .select({ choice: votes.choice, power: sql<number>`SUM(${votes.power})`, voters: sql<number>`COUNT(*)` })
    .from(votes)
    .where(eq(votes.proposalId, proposalId))
    .groupBy(votes.choice);
  const tally = { ...emptyTally(), voters: 0 };
  for (const r of rows) {
    tally[r.choice] = r.power;
    tally.voters += r.voters;
  }
  return tally;
}

export async function votingPowerOf(db: Db, proposalId: string, accountId: string): Promise<number> {
  const row = await db.$client
    .prepare('SELECT power FROM proposal_power WHERE proposal_id = ?1 AND account_id = ?2')
    .bind(proposalId, accountId)
    .first<{ power: number }>();
  return row?.power ?? 0;
}

export async function voteOf(db: Db, proposalId: string, accountId: string) {
  return db
    .select()
    .from(votes)
    .where(and(eq(votes.proposalId, proposalId), eq(votes.accountId, accountId)))
    .get();
}

export interface CastVote {
  proposalId: string;
  accountId: string;
  choice: VoteChoice;
  via: 'api' | 'discord' | 'telegram';
}

/**
 * Records or replaces a vote. One statement guards everything: it inserts only while the
 * proposal is open and its voting period has not ended, and only for an account in the snapshot
 * (the power is copied from there). A later vote replaces the choice; `cast_at` keeps the first.
 * Undefined when the statement refused the vote (the service says why).
 */
export async function recordVote(db: Db, vote: CastVote, nowMs: number): Promise<{ power: number; replaced: boolean } | undefined> {
  const row = await db.$client
    .prepare(
      `INSERT INTO votes (proposal_id, account_id, choice, power, via, cast_at, updated_at)
       SELECT pp.proposal_id, pp.account_id, ?3, pp.power, ?4, ?5, ?5
       FROM proposal_power pp JOIN proposals p ON p.id = pp.proposal_id
       WHERE pp.proposal_id = ?1 AND pp.account_id = ?2 AND p.status = 'open' AND p.voting_ends_at > ?5
       ON CONFLICT (proposal_id, account_id) DO UPDATE SET choice = excluded.choice, via = excluded.via, updated_at = excluded.updated_at
       RETURNING power, cast_at AS castAt`,
    )
    .bind(vote.proposalId, vote.accountId, vote.choice, vote.via, nowMs)
    .first<{ power: number; castAt: number }>();
  return row ? { power: row.power, replaced: row.castAt !== nowMs } : undefined;
}
