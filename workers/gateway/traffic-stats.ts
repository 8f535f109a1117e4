// Traffic of the endpoint URLs, for the bots' and explorer's views (requests per minute, median
// time to first byte) and for placement (where callers are: E's traffic-driven placement).
// Counted in the isolate per (endpoint, minute, caller cell) and added into the D1 table
// `endpoint_traffic` (db/schema/endpoints.ts) at most every FLUSH_INTERVAL_MS per isolate, in one
// batch, through waitUntil: a request never waits for it and D1 sees a few writes per isolate
// per minute whatever the request rate. Rows from many isolates add up (upsert with +=).
import type { Db } from '../app-env.ts';

/** Upper bounds (ms) of the time-to-first-byte buckets; the last bucket is everything above. */
export const TTFB_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500] as const;
export const TTFB_COLUMNS = [
  'ttfb_le_25',
  'ttfb_le_50',
  'ttfb_le_100',
  'ttfb_le_250',
  'ttfb_le_500',
  'ttfb_le_1000',
  'ttfb_le_2500',
  'ttfb_gt_2500',
] as const;

export const FLUSH_INTERVAL_MS = 5_000;
/** Rows held between flushes at most; more are dropped and counted (a flood of cells cannot grow memory). */
export const MAX_PENDING_ROWS = 2_000;
/** Rows per flush at most: each is one statement in the batch. */
export const MAX_FLUSH_ROWS = 500;

export interface TrafficRow {
  endpointId: string;
  /** Start of the minute (Unix ms). */
  minute: number;
  /** Caller's 5° cell (workers/routing/geo.ts `geoCell`) or `unknown`. */
  cell: string;
  requests: number;
  /** Answers with status ≥ 500: the gateway's own (no replica, timeout) and the replicas'. */
  errors: number;
  ttfb: number[];
}

export function bucketOf(ttfbMs: number): number {
  for (let i = 0; i < TTFB_BUCKETS_MS.length; i++) if (ttfbMs <= TTFB_BUCKETS_MS[i]!) return i;
  return TTFB_BUCKETS_MS.length;
}

/**
 * The median time to first byte from bucket counts: linear within the bucket that holds it (the
 * last bucket, unbounded, reports its lower bound). Null without requests.
 */
export function medianFromBuckets(counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const half = total / 2;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (seen + n >= half && n > 0) {
      const low = i === 0 ? 0 : TTFB_BUCKETS_MS[i - 1]!;
      const high = TTFB_BUCKETS_MS[i];
      if (high === undefined) return low;
      return Math.round(low + ((half - seen) / n) * (high - low));
    }
    seen += n;
  }
  return null;
}

export class TrafficCounters {
  private pending = new Map<string, TrafficRow>();
  private lastFlush = 0;
  private flushing = false;
  dropped = 0;

  record(endpointId: string, nowMs: number, cell: string, status: number, ttfbMs: number | null): void {
    const minute = nowMs - (nowMs % 60_000);
    const key = `${endpointId}|${minute}|${cell}`;
    let row = this.pending.get(key);
    if (!row) {
      if (this.pending.size >= MAX_PENDING_ROWS) {
        this.dropped++;
        return;
      }
      row = { endpointId, minute, cell, requests: 0, errors: 0, ttfb: new Array<number>(TTFB_COLUMNS.length).fill(0) };
      this.pending.set(key, row);
    }
    row.requests++;
    if (status >= 500) row.errors++;
    if (ttfbMs !== null) row.ttfb[bucketOf(ttfbMs)]!++;
  }

  /** Rows to write now, taken out of the pending set; empty when the last flush was too recent or one is running. */
  take(nowMs: number): TrafficRow[] {
    if (this.flushing || this.pending.size === 0 || nowMs - this.lastFlush < FLUSH_INTERVAL_MS) return [];
    this.lastFlush = nowMs;
    const rows: TrafficRow[] = [];
    for (const [key, row] of this.pending) {
      if (rows.length >= MAX_FLUSH_ROWS) break;
      rows.push(row);
      this.pending.delete(key);
    }
    return rows;
  }

  /** A batch failed (D1 batches are all or nothing): its counts go back for the next flush. */
  putBack(rows: readonly TrafficRow[]): void {
    for (const row of rows) {
      const key = `${row.endpointId}|${row.minute}|${row.cell}`;
      const mine = this.pending.get(key);
      if (mine) {
        mine.requests += row.requests;
        mine.errors += row.errors;
        for (const [i, n] of row.ttfb.entries()) mine.ttfb[i]! += n;
      } else if (this.pending.size < MAX_PENDING_ROWS) this.pending.set(key, row);
      else this.dropped++;
    }
  }

  /** Writes what is due in one D1 batch. Resolves when done (give it to waitUntil); never throws. */
  async flush(db: Db, nowMs: number): Promise<void> {
    const rows = this.take(nowMs);
    if (rows.length === 0) return;
    this.flushing = true;
    try {
      // Raw upserts (`col = col + excluded.col` over the bucket columns), one batch.
      await db.$client.batch(rows.map((row) => upsert(db.$client, row)));
    } catch (error) {
      console.error('endpoint traffic flush failed', error);
      this.putBack(rows);
    } finally {
      this.flushing = false;
    }
  }
}

const UPSERT_SQL = `INSERT INTO endpoint_traffic (endpoint_id, minute, cell, requests, errors, ${TTFB_COLUMNS.join(', ')})
VALUES (?, ?, ?, ?, ?, ${TTFB_COLUMNS.map(() => '?').join(', ')})
ON CONFLICT (endpoint_id, minute, cell) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors, ${TTFB_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;

function upsert(db: D1Database, row: TrafficRow): D1PreparedStatement {
  return db.prepare(UPSERT_SQL).bind(row.endpointId, row.minute, row.cell, row.requests, row.errors, ...row.ttfb);
}
