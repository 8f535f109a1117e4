import type { epochs, EpochStep } from '../../../db/schema.ts';
import type { AlertQueueEnv } from '../../alerts/emit-alert.ts';
import type { Db } from '../../app-env.ts';
import type { Config } from '../../config.ts';
import type { WorkSource } from '../work-served.ts';

// What every step of the epoch close is given: the D1 budget it spends from, the options of the
// run and the epochs row it works on.

export interface CloseOptions {
  nowMs: number;
  workSource?: WorkSource;
  /** Overrides CLOSE_QUERY_BUDGET. */
  budget?: number;
  /** Called before every D1 round trip; a test throws from it to crash the close at that point. */
  beforeQuery?: (step: EpochStep | 'select', spent: number) => void;
  /** Where operator alerts go (expired challenges); none in benches. */
  alerts?: AlertQueueEnv;
}

export type EpochRow = typeof epochs.$inferSelect;

/** One step's work on the epoch `row` (moving it on with its effects, workers/rewards/close/close-steps.ts). */
export type CloseStep = (exec: Exec, config: Config, options: CloseOptions, row: EpochRow) => Promise<void>;

export class OutOfBudget extends Error {}

/** Counts every statement against the invocation's budget. */
export class Exec {
  spent = 0;
  step: EpochStep | 'select' = 'select';
  constructor(
    readonly db: Db,
    readonly budget: number,
    private readonly beforeQuery?: CloseOptions['beforeQuery'],
  ) {}
  left(): number {
    return this.budget - this.spent;
  }
  need(statements: number): void {
    if (statements > this.left()) throw new OutOfBudget();
  }
  charge(statements: number): void {
    this.need(statements);
    this.beforeQuery?.(this.step, this.spent);
    this.spent += statements;
  }
  async all<T>(statement: D1PreparedStatement): Promise<T[]> {
    this.charge(1);
    return (await statement.all<T>()).results;
  }
  async first<T>(statement: D1PreparedStatement): Promise<T | null> {
    this.charge(1);
    return statement.first<T>();
  }
  async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    if (statements.length === 0) return [];
    this.charge(statements.length);
    return this.db.$client.batch(statements);
  }
}

export const EPOCH_ROW_SQL = `SELECT epoch, status, step, cursor, start_ms AS startMs, end_ms AS endMs, emission, carry_in AS carryIn, minted,
  carry_out AS carryOut, capacity_pool AS capacityPool, work_pool AS workPool, fees, burned, work_fee_multiple_bps AS workFeeMultipleBps,
  nodes, credit_chunks AS creditChunks, queries, runs, started_at AS startedAt, closed_at AS closedAt FROM epochs WHERE epoch = ?1`;
