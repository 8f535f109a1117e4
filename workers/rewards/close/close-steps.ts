import { EPOCH_STEPS, type EpochStep } from '../../../db/schema.ts';
import { violatedConstraint } from '../../ledger/ledger-errors.ts';
import { postTransaction } from '../../ledger/ledger.repo.ts';
import { assertChanged } from '../../ledger/sql-assert.ts';
import type { Exec, EpochRow } from './close-exec.ts';

// The close's state machine: the `epochs` row walks EPOCH_STEPS in order (snapshot → compute →
// slash → post → fees → release → challenges → done). A step either repeats (work left: more
// slashes, credit chunks or unbondings) or moves the row to the next step with a compare-and-swap
// in the same batch as its last effects. Losing that swap to another invocation aborts the batch,
// so each step's effects land once.

/** The step after `step`; `done` stays `done`. */
export function nextStep(step: EpochStep): EpochStep {
  return EPOCH_STEPS[Math.min(EPOCH_STEPS.indexOf(step) + 1, EPOCH_STEPS.length - 1)]!;
}

/**
 * Moves the epoch to its next step only if it is still at this one (and cursor): a lost race
 * aborts the batch. `set` adds columns written with the move (?6 onwards in `params`).
 */
export function advance(exec: Exec, row: EpochRow, set = '', params: unknown[] = []): D1PreparedStatement[] {
  const to = nextStep(row.step);
  const status = to === 'done' ? 'closed' : 'closing';
  return [
    exec.db.$client
      .prepare(`UPDATE epochs SET step = ?3, cursor = 0, status = ?4 ${set} WHERE epoch = ?1 AND step = ?2 AND cursor = ?5`)
      .bind(row.epoch, row.step, to, status, row.cursor, ...params),
    assertChanged(exec.db.$client, 'epoch_moved'),
  ];
}

/** A batch that lost a race (key used, row moved) changed nothing; the loop re-reads the epoch. */
export async function guarded(run: Promise<unknown>): Promise<void> {
  try {
    await run;
  } catch (error) {
    if (violatedConstraint(error) === 'idempotency_key' || /assert:(epoch|unbonding)_moved/.test(messages(error))) return;
    throw error;
  }
}

/** A mint or fee posting whose step another invocation already finished is a no-op here. */
export async function guardedPost(...args: Parameters<typeof postTransaction>): Promise<void> {
  await guarded(postTransaction(...args));
}

export function messages(error: unknown): string {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) out.push(e.message);
  return out.join(' | ');
}
