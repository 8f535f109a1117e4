import type { EpochStep } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { epochAt } from '../lib/epoch-clock.ts';
import { challenges } from './close/challenges.ts';
import { Exec, EPOCH_ROW_SQL, OutOfBudget, type CloseOptions, type CloseStep, type EpochRow } from './close/close-exec.ts';
import { compute } from './close/compute.ts';
import { fees } from './close/fees.ts';
import { post } from './close/post.ts';
import { release } from './close/release.ts';
import { slash } from './close/slash.ts';
import { snapshot } from './close/snapshot.ts';

// Closing an epoch, resumably (workers/rewards/README.md): this file drives the close's state
// machine (close/close-steps.ts); each step is a file of its own in close/. The `epochs` row holds
// the step and a cursor; every step ends with a compare-and-swap of that row in the same D1 batch
// as its effects, and every ledger posting has a key derived from the epoch, so a second cron, a
// crash or a retry at any point repeats nothing and loses nothing:
//
//   snapshot   one batch: the epochs row (its PRIMARY KEY lets only one close begin, and it
//              keeps the governed work-fee multiple), eligible nodes' uptime, GPU weight, work
//              and the fees it paid frozen into epoch_nodes, bonded stake into
//              epoch_stakes, pending slashes claimed, commission changes applied
//   compute    reads the frozen inputs, runs the pure arithmetic (epoch-rewards.ts), writes
//              results, then mints the epoch's rewards into system:reward_pool (`epoch:<n>:mint`)
//   slash      each claimed slash: from the node's reward first, then its stake (apply-slash.ts)
//   post       one bulk `reward` transaction per chunk of credits (`epoch:<n>:rewards:<chunk>`)
//   fees       system:fees at the snapshot → burned and community treasury (`epoch:<n>:fees`)
//   release    unbondings due by the epoch's end → their owners (`epoch:<n>:release:<first id>`)
//   challenges expired challenges fail; a random share of eligible nodes is challenged
//
// Statement counts are set-based: a handful per step plus one per CLOSE_CHUNK_ROWS rows, so an
// epoch of 100,000 nodes fits the platform's 1,000 queries per invocation (see the bench);
// when CLOSE_QUERY_BUDGET runs out the next cron invocation resumes where this one stopped.

export type { CloseOptions } from './close/close-exec.ts';

export interface CloseReport {
  /** Epochs fully closed by this call. */
  closed: number[];
  /** The epoch left in progress, if any, and its step. */
  inProgress: { epoch: number; step: EpochStep } | null;
  /** D1 statements this call spent. */
  queries: number;
}

/** What runs at each step the `epochs` row can rest at (it never rests at `snapshot`). */
const STEPS: Record<Exclude<EpochStep, 'snapshot' | 'done'>, CloseStep> = { compute, slash, post, fees, release, challenges };

const STEP_RESERVE = 12;

export async function closeDueEpochs(db: Db, config: Config, options: CloseOptions): Promise<CloseReport> {
  const exec = new Exec(db, options.budget ?? config.CLOSE_QUERY_BUDGET, options.beforeQuery);
  const report: CloseReport = { closed: [], inProgress: null, queries: 0 };
  const touched = new Map<number, number>();
  try {
    while (exec.left() > STEP_RESERVE) {
      exec.step = 'select';
      const before = exec.spent;
      const row = await nextEpoch(exec, config, options);
      if (!row) break;
      exec.step = row.step;
      const done = await runStep(exec, config, options, row);
      touched.set(row.epoch, (touched.get(row.epoch) ?? 0) + exec.spent - before);
      if (done) report.closed.push(row.epoch);
    }
  } catch (error) {
    if (!(error instanceof OutOfBudget)) throw error;
  } finally {
    report.queries = exec.spent;
  }
  // Bookkeeping of what each run cost; outside the budget (one statement per epoch touched).
  for (const [epoch, queries] of touched) {
    await db.$client.prepare('UPDATE epochs SET queries = queries + ?2, runs = runs + 1 WHERE epoch = ?1').bind(epoch, queries).run();
    report.queries++;
  }
  const open = await db.$client
    .prepare(`SELECT epoch, step FROM epochs WHERE status = 'closing' ORDER BY epoch LIMIT 1`)
    .first<{ epoch: number; step: EpochStep }>();
  report.inProgress = open;
  return report;
}

/** The epoch to work on: the one closing, or the next one that has ended (then its snapshot). */
async function nextEpoch(exec: Exec, config: Config, options: CloseOptions): Promise<EpochRow | null> {
  const row = await exec.first<{ open: string | null; last: number | null; carry: number | null }>(
    exec.db.$client.prepare(
      `SELECT (SELECT json_object('epoch', epoch) FROM epochs WHERE status = 'closing' ORDER BY epoch LIMIT 1) AS open,
              (SELECT max(epoch) FROM epochs) AS last,
              (SELECT carry_out FROM epochs WHERE epoch = (SELECT max(epoch) FROM epochs)) AS carry`,
    ),
  );
  if (row?.open) {
    const { epoch } = JSON.parse(row.open) as { epoch: number };
    return exec.first<EpochRow>(exec.db.$client.prepare(EPOCH_ROW_SQL).bind(epoch));
  }
  const due = epochAt(config, options.nowMs) - 1;
  const next = row?.last === null || row?.last === undefined ? due : row.last + 1;
  if (next > due || next < 0) return null;
  exec.step = 'snapshot';
  await snapshot(exec, config, options, next, BigInt(row?.carry ?? 0));
  return exec.first<EpochRow>(exec.db.$client.prepare(EPOCH_ROW_SQL).bind(next));
}

async function runStep(exec: Exec, config: Config, options: CloseOptions, row: EpochRow): Promise<boolean> {
  // `snapshot` is written whole by nextEpoch (a row never rests there); `done` is not picked up.
  if (row.step === 'snapshot' || row.step === 'done') return false;
  await STEPS[row.step](exec, config, options, row);
  return row.step === 'challenges';
}
