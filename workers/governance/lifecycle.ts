import { and, asc, eq, lte } from 'drizzle-orm';
import { proposals } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { runBatch } from '../ledger/d1-batch.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';
import { COMMUNITY_TREASURY } from './community-treasury.ts';
import { boundsContextOf } from './param-defs.ts';
import { invalidateParams } from './params.repo.ts';
import { executionRefusal } from './proposal-rules.ts';
import type { ProposalRow } from './proposals.repo.ts';
import { decideOutcome, type Tally } from './tally.ts';

// What the cron does with proposals: close those whose voting ended (tally → passed/rejected),
// then execute those whose timelock ran out. Every status change goes through the SQL state
// machine (trigger `proposals_status_machine`): a move it does not allow aborts the whole batch,
// so a second execution — a retry, a racing cron — cannot write anything.

export type ProposalEvent =
  | { kind: 'closed'; proposalId: string; status: 'passed' | 'rejected'; reason: string }
  | { kind: 'executed'; proposalId: string; transactionId: string | null }
  | { kind: 'failed'; proposalId: string; reason: string };

const BATCH_LIMIT = 50;

/** Closes every proposal whose voting period ended at or before `nowMs`; the tally is one GROUP BY. */
export async function closeDueProposals(db: Db, nowMs: number): Promise<ProposalEvent[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT p.id, p.total_power AS totalPower, p.quorum_bps AS quorumBps, p.threshold_bps AS thresholdBps,
              p.voting_ends_at AS votingEndsAt, p.timelock_ms AS timelockMs,
              COALESCE(SUM(CASE WHEN v.choice = 'yes' THEN v.power END), 0) AS yes,
              COALESCE(SUM(CASE WHEN v.choice = 'no' THEN v.power END), 0) AS no,
              COALESCE(SUM(CASE WHEN v.choice = 'abstain' THEN v.power END), 0) AS abstain
       FROM proposals p LEFT JOIN votes v ON v.proposal_id = p.id
       WHERE p.status = 'open' AND p.voting_ends_at <= ?1
       GROUP BY p.id ORDER BY p.voting_ends_at LIMIT ?2`,
    )
    .bind(nowMs, BATCH_LIMIT)
    .all<{ id: string; totalPower: number; quorumBps: number; thresholdBps: number; votingEndsAt: number; timelockMs: number } & Tally>();
  if (results.length === 0) return [];
  const events: ProposalEvent[] = [];
  const statements = results.map((p) => {
    const outcome = decideOutcome(p, p);
    events.push({ kind: 'closed', proposalId: p.id, status: outcome.status, reason: outcome.reason });
    // The timelock runs from the end of voting, not from whenever the cron got here.
    const executableAt = outcome.status === 'passed' ? p.votingEndsAt + p.timelockMs : null;
    return db.$client
      .prepare(
        `UPDATE proposals SET status = ?2, yes_power = ?3, no_power = ?4, abstain_power = ?5, closed_at = ?6,
           executable_at = ?7, outcome_reason = ?8 WHERE id = ?1 AND status = 'open'`,
      )
      .bind(p.id, outcome.status, p.yes, p.no, p.abstain, nowMs, executableAt, outcome.reason);
  });
  const done = await runBatch(db, statements);
  // A row another cron closed first changed nothing here: only report what this run closed.
  return events.filter((_, i) => done[i]!.meta.changes === 1);
}

/** Executes every passed proposal whose timelock has run out; each exactly once. */
export async function executeDueProposals(db: Db, config: Config, nowMs: number): Promise<ProposalEvent[]> {
  const due = await db
    .select()
    .from(proposals)
    .where(and(eq(proposals.status, 'passed'), lte(proposals.executableAt, nowMs)))
    .orderBy(asc(proposals.executableAt))
    .limit(BATCH_LIMIT);
  const events: ProposalEvent[] = [];
  for (const p of due) {
    try {
      const event = await executeProposal(db, config, p, nowMs);
      if (event) events.push(event);
    } catch (error) {
      console.error('governance: executing proposal failed; the next tick retries', p.id, error);
    }
  }
  return events;
}

const MARK_EXECUTED = `UPDATE proposals SET status = 'executed', executed_at = ?2, execution_tx_id = ?3 WHERE id = ?1`;

/**
 * One proposal's effect and its move to `executed`, in one batch:
 *  - grant: the ledger transaction (idempotency key `proposal:<id>:execute`) with the status
 *    change as its `with` row; an empty community treasury makes the proposal `failed` instead;
 *  - param: the status change and the parameter write, the latter copying the value from the
 *    proposal row so it can only land together with the move; a value outside the bounds in
 *    force now (or a rule change without a supermajority) makes the proposal `failed` instead;
 *  - text: the status change alone.
 * Returns null when another run executed it first.
 */
export async function executeProposal(db: Db, config: Config, p: ProposalRow, nowMs: number): Promise<ProposalEvent | null> {
  const client = db.$client;
  try {
    switch (p.kind) {
      case 'grant': {
        try {
          const tx = await postTransaction(
            db,
            {
              kind: 'grant',
              idempotencyKey: `proposal:${p.id}:execute`,
              entries: [
                { account: COMMUNITY_TREASURY, amount: -p.grantAmount! },
                { account: p.grantRecipient!, amount: p.grantAmount! },
              ],
              ref: `proposal:${p.id}`,
              memo: `Grant of proposal #${p.number}: ${p.title}`.slice(0, 500),
            },
            { now: nowMs, with: (txId, at) => [client.prepare(MARK_EXECUTED).bind(p.id, at, txId)] },
          );
          // replayed: an earlier run posted it and moved the proposal in the same batch.
          return tx.replayed ? null : { kind: 'executed', proposalId: p.id, transactionId: tx.id };
        } catch (error) {
          if (error instanceof AppError && error.code === 'insufficient_funds') {
            await client
              .prepare(`UPDATE proposals SET status = 'failed', outcome_reason = 'insufficient_treasury' WHERE id = ?1`)
              .bind(p.id)
              .run();
            return { kind: 'failed', proposalId: p.id, reason: 'insufficient_treasury' };
          }
          if (error instanceof AppError && error.code === 'account_not_found') {
            await client
              .prepare(`UPDATE proposals SET status = 'failed', outcome_reason = 'unknown_recipient' WHERE id = ?1`)
              .bind(p.id)
              .run();
            return { kind: 'failed', proposalId: p.id, reason: 'unknown_recipient' };
          }
          throw error;
        }
      }
      case 'param': {
        // The row is read fresh: the value executed is the one stored, whatever `p` says.
        const row = await client
          .prepare(
            'SELECT param_name AS paramName, param_value AS paramValue, threshold_bps AS thresholdBps, timelock_ms AS timelockMs FROM proposals WHERE id = ?1',
          )
          .bind(p.id)
          .first<{ paramName: string | null; paramValue: string | null; thresholdBps: number; timelockMs: number }>();
        const refusal = executionRefusal(
          row ?? { paramName: null, paramValue: null, thresholdBps: 0, timelockMs: 0 },
          boundsContextOf(config),
        );
        if (refusal) {
          // Through the state machine: passed → failed, once; a run that lost the race aborts here.
          await client.prepare(`UPDATE proposals SET status = 'failed', outcome_reason = ?2 WHERE id = ?1`).bind(p.id, refusal).run();
          return { kind: 'failed', proposalId: p.id, reason: refusal };
        }
        await runBatch(db, [
          client.prepare(MARK_EXECUTED).bind(p.id, nowMs, null),
          client
            .prepare(
              `INSERT INTO params (name, value, updated_at, proposal_id)
               SELECT param_name, param_value, ?2, id FROM proposals WHERE id = ?1 AND status = 'executed' AND executed_at = ?2
               ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, proposal_id = excluded.proposal_id`,
            )
            .bind(p.id, nowMs),
        ]);
        invalidateParams(db);
        return { kind: 'executed', proposalId: p.id, transactionId: null };
      }
      case 'text': {
        await client.prepare(MARK_EXECUTED).bind(p.id, nowMs, null).run();
        return { kind: 'executed', proposalId: p.id, transactionId: null };
      }
    }
  } catch (error) {
    if (isBadTransition(error)) return null;
    throw error;
  }
}

/** The state-machine trigger refused the move: someone else already moved this proposal. */
function isBadTransition(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.message.includes('proposal_bad_transition')) return true;
  }
  return false;
}
