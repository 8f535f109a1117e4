// Per-replica request counters of one node's tunnel, kept in the tunnel object's own SQLite so they
// survive hibernation: the control plane's scaling reads them with `load()` (in-flight now, and the
// totals since the replica was placed, from which it takes rates between two reads).
//
// Counted in memory and written at most once a second (FLUSH_MS), not per request: a storage write
// holds the object's outgoing messages (its output gate) until it is durable, so a write at each
// request's start would hold that request's OPEN frame to the agent for as long as the write takes
// to confirm. Locally that is not measurable (loopback TTFB through /e/…, alternating runs on a
// quiet machine: 17.4 and 21.2 ms median with the writes, 17.6 and 19.4 without); on Cloudflare a
// write confirms across replicas. A read writes what is pending first, so `load()` is exact; what an object loses by being evicted
// between a count and its flush (a crash, a deploy — hibernation waits for the flush timer) is at
// most a second of counters that feed scaling rates, never money.
import type { StreamOutcome } from './tunnel-stream.ts';

export interface ReplicaLoad {
  /** Requests open on the tunnel for this replica right now. */
  inflight: number;
  /** Requests sent to the agent for it (totals from here on). */
  started: number;
  /** Ended with the whole response delivered. */
  completed: number;
  /** Ended by an error: the replica or its node reset it, a timeout, the tunnel went down. */
  failed: number;
  /** Ended because the caller went away (not the replica's fault). */
  cancelled: number;
}

const COLUMN: Record<StreamOutcome, 'completed' | 'failed' | 'cancelled'> = {
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** How long counts wait in memory before they are written. */
export const FLUSH_MS = 1000;

type Counter = 'started' | 'completed' | 'failed' | 'cancelled';

export class ReplicaLoadTable {
  private readonly pending = new Map<string, Record<Counter, number>>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS replica_load (
      replica_id TEXT PRIMARY KEY, started INTEGER NOT NULL DEFAULT 0, completed INTEGER NOT NULL DEFAULT 0,
      failed INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID`);
  }

  started(replicaId: string): void {
    this.count(replicaId, 'started');
  }

  ended(replicaId: string, outcome: StreamOutcome): void {
    this.count(replicaId, COLUMN[outcome]);
  }

  read(replicaId: string, inflight: number): ReplicaLoad {
    this.flush();
    const row = this.sql
      .exec<{ started: number; completed: number; failed: number; cancelled: number }>(
        'SELECT started, completed, failed, cancelled FROM replica_load WHERE replica_id = ?',
        replicaId,
      )
      .toArray()[0];
    return {
      inflight,
      started: row?.started ?? 0,
      completed: row?.completed ?? 0,
      failed: row?.failed ?? 0,
      cancelled: row?.cancelled ?? 0,
    };
  }

  /** Forgets replicas the node no longer runs (their counters mean nothing to a new placement). */
  keepOnly(replicaIds: ReadonlySet<string>): void {
    for (const id of this.pending.keys()) if (!replicaIds.has(id)) this.pending.delete(id);
    this.sql.exec('DELETE FROM replica_load WHERE replica_id NOT IN (SELECT value FROM json_each(?))', JSON.stringify([...replicaIds]));
  }

  /** Writes the pending counts, one statement per replica that has any. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [id, d] of this.pending) {
      this.sql.exec(
        `INSERT INTO replica_load (replica_id, started, completed, failed, cancelled) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (replica_id) DO UPDATE SET started = started + ?2, completed = completed + ?3, failed = failed + ?4, cancelled = cancelled + ?5`,
        id,
        d.started,
        d.completed,
        d.failed,
        d.cancelled,
      );
    }
    this.pending.clear();
  }

  private count(replicaId: string, counter: Counter): void {
    let d = this.pending.get(replicaId);
    if (!d) {
      d = { started: 0, completed: 0, failed: 0, cancelled: 0 };
      this.pending.set(replicaId, d);
    }
    d[counter]++;
    // A pending timer also keeps the object from hibernating before the counts are written.
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }
}
