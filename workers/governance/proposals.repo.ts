import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { proposals, votes, type ProposalKind, type ProposalStatus, type VoteChoice } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError, notFound } from '../errors.ts';
import { runBatch } from '../ledger/d1-batch.ts';
import { randomId } from '../lib/ids.ts';
import type { ParamName, Params } from './param-defs.ts';
import { rulesFor } from './proposal-rules.ts';
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
 *   1. the proposal row, inserted only when the proposer's bonded stake reaches the minimum;
 *   2. proposal_power: every account's bonded stake, one INSERT … SELECT … GROUP BY;
 *   3. total_power = Σ of the snapshot.
 * The rules (quorum, threshold, timelock, voting period) are copied from the parameters as
 * they stand now, so a later parameter change never moves a running vote; a change to one of
 * governance's own rules gets the supermajority and the longer timelock (proposal-rules.ts).
 */
export async function openProposal(db: Db, input: NewProposal, params: Params, nowMs: number, idempotencyKey: string | null = null): Promise<{ row: ProposalRow; replayed: boolean }> {
  if (idempotencyKey !== null) {
    const earlier = await replayOf(db, idempotencyKey, input.proposerAccountId);
    if (earlier) return { row: earlier, replayed: true };
  }
  const id = randomId('prop');
  const rules = rulesFor(input.param, params);
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
      .prepare(`UPDATE proposals SET total_power = (SELECT COALESCE(SUM(power), 0) FROM proposal_power WHERE proposal_id = ?1) WHERE id = ?1`)
      .bind(id),
  ]);
  if (inserted!.meta.changes !== 1) {
    // A concurrent run of the same request opened it first (the key's unique index refused ours).
    const earlier = idempotencyKey === null ? undefined : await replayOf(db, idempotencyKey, input.proposerAccountId);
    if (earlier) return { row: earlier, replayed: true };
    throw new AppError(
      403,
      'insufficient_stake',
      `Opening a proposal needs at least the minimum bonded stake (proposal_min_stake); stake more and try again.`,
    );
  }
  return { row: (await findProposal(db, id))!, replayed: false };
}

/** The proposal an earlier run of the same request opened; a key used by another account is refused. */
async function replayOf(db: Db, idempotencyKey: string, proposer: string): Promise<ProposalRow | undefined> {
  const row = await db.select().from(proposals).where(eq(proposals.idempotencyKey, idempotencyKey)).get();
  if (row && row.proposerAccountId !== proposer) {
    throw new AppError(409, 'idempotency_conflict', 'This idempotency key was used for another request.');
  }
  return row;
}

/** By id (`prop_…`) or by number ("12"). */
export async function findProposal(db: Db, ref: string): Promise<ProposalRow | undefined> {
  if (/^[1-9][0-9]{0,9}$/.test(ref)) return db.select().from(proposals).where(eq(proposals.number, Number(ref))).get();
  return db.select().from(proposals).where(eq(proposals.id, ref)).get();
}

export async function requireProposal(db: Db, ref: string): Promise<ProposalRow> {
  const row = await findProposal(db, ref);
  if (!row) throw notFound('Proposal');
  return row;
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
  return db.select().from(votes).where(and(eq(votes.proposalId, proposalId), eq(votes.accountId, accountId))).get();
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
 */
export async function castVote(db: Db, vote: CastVote, nowMs: number): Promise<{ power: number; replaced: boolean }> {
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
  if (row) return { power: row.power, replaced: row.castAt !== nowMs };
  const proposal = await findProposal(db, vote.proposalId);
  if (!proposal) throw notFound('Proposal');
  if (proposal.status !== 'open' || proposal.votingEndsAt <= nowMs) {
    throw new AppError(409, 'voting_closed', `Voting on proposal #${proposal.number} has closed.`);
  }
  throw new AppError(
    403,
    'no_voting_power',
    `This account had no bonded stake when proposal #${proposal.number} opened, so it has no vote on it.`,
  );
}
