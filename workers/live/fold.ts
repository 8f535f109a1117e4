// Folding live state into D1: one statement per table regardless of how many nodes changed.
// Rows travel as a single JSON parameter expanded by json_each, which keeps every statement far
// under D1's 100-bound-parameter limit and makes a fold of a whole shard one batch.

export interface FoldRow {
  id: string;
  status: string;
  lastSeenAt: number;
  onlineMs: number;
  probes: string;
}

export interface EventRow {
  nodeId: string;
  kind: string;
  at: number;
  detail: string;
}

/** Rows per statement: keeps each JSON parameter well under D1's 2 MB value limit. */
const CHUNK = 2_000;

export async function flushToD1(
  db: D1Database,
  rows: FoldRow[],
  events: EventRow[],
): Promise<{ queries: number; rowsWritten: number }> {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = JSON.stringify(rows.slice(i, i + CHUNK));
    // Liveness columns are not indexed, so the routine fold rewrites only the table row.
    statements.push(
      db
        .prepare(
          `UPDATE nodes SET last_seen_at = max(nodes.last_seen_at, v.last_seen_at),
             online_ms = max(nodes.online_ms, v.online_ms), probes = v.probes
           FROM (SELECT value ->> 'id' AS id, value ->> 'lastSeenAt' AS last_seen_at,
                        value ->> 'onlineMs' AS online_ms, value ->> 'probes' AS probes
                 FROM json_each(?1)) AS v
           WHERE nodes.id = v.id`,
        )
        .bind(chunk),
    );
    // `status` is indexed: touch it only where it really changed, so index pages stay untouched.
    statements.push(
      db
        .prepare(
          `UPDATE nodes SET status = v.status
           FROM (SELECT value ->> 'id' AS id, value ->> 'status' AS status FROM json_each(?1)) AS v
           WHERE nodes.id = v.id AND nodes.status <> v.status`,
        )
        .bind(chunk),
    );
  }
  for (let i = 0; i < events.length; i += CHUNK) {
    statements.push(
      db
        .prepare(
          `INSERT INTO node_events (node_id, kind, at, detail)
           SELECT value ->> 'nodeId', value ->> 'kind', value ->> 'at', value ->> 'detail' FROM json_each(?1)`,
        )
        .bind(JSON.stringify(events.slice(i, i + CHUNK))),
    );
  }
  if (statements.length === 0) return { queries: 0, rowsWritten: 0 };
  const results = await db.batch(statements);
  return { queries: statements.length, rowsWritten: results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0) };
}
