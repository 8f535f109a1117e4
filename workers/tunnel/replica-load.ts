// Per-replica request counters of one node's tunnel, kept in the tunnel object's own SQLite so they
// survive hibernation: the control plane's scaling reads them with `load()` (in-flight now, and the
// totals since the replica was placed, from which it takes rates between two reads).
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

export class ReplicaLoadTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS replica_load (
      replica_id TEXT PRIMARY KEY, started INTEGER NOT NULL DEFAULT 0, completed INTEGER NOT NULL DEFAULT 0,
      failed INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID`);
  }

  started(replicaId: string): void {
    this.sql.exec(
      'INSERT INTO replica_load (replica_id, started) VALUES (?, 1) ON CONFLICT (replica_id) DO UPDATE SET started = started + 1',
      replicaId,
    );
  }

  ended(replicaId: string, outcome: StreamOutcome): void {
    const column = COLUMN[outcome];
    this.sql.exec(`UPDATE replica_load SET ${column} = ${column} + 1 WHERE replica_id = ?`, replicaId);
  }

  read(replicaId: string, inflight: number): ReplicaLoad {
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
    this.sql.exec('DELETE FROM replica_load WHERE replica_id NOT IN (SELECT value FROM json_each(?))', JSON.stringify([...replicaIds]));
  }
}
