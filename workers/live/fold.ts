// Folding live state into D1: one statement per table regardless of how many nodes changed.
// Rows travel as a single JSON parameter expanded by json_each, which keeps every statement far
// under D1's 100-bound-parameter limit and makes a fold of a whole shard one batch.

import { nodeRttExcess } from '../routing/route-rank.ts';
import { buildProbeIndex, type ProbeSample } from '../routing/rtt-model.ts';

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

export async function flushToD1(db: D1Database, rows: FoldRow[], events: EventRow[]): Promise<{ queries: number; rowsWritten: number }> {
  const statements: D1PreparedStatement[] = [];
  const measured = await withExcess(db, rows);
  const reads = rows.length > 0 ? 2 : 0;
  for (let i = 0; i < measured.length; i += CHUNK) {
    const chunk = JSON.stringify(measured.slice(i, i + CHUNK));
    // Liveness columns are not indexed, so the routine fold rewrites only the table row.
    statements.push(
      db
        .prepare(
          `UPDATE nodes SET last_seen_at = max(nodes.last_seen_at, v.last_seen_at),
             online_ms = max(nodes.online_ms, v.online_ms), probes = v.probes, rtt_excess_ms = v.excess
           FROM (SELECT value ->> 'id' AS id, value ->> 'lastSeenAt' AS last_seen_at,
                        value ->> 'onlineMs' AS online_ms, value ->> 'probes' AS probes, value ->> 'excess' AS excess
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
  return { queries: statements.length + reads, rowsWritten: results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0) };
}

/**
 * Each folded node's own latency excess (nodeRttExcess: the RTT model's estimate for a renter
 * standing at the node), for the route rank the quote pre-filter orders by (migration 0013).
 * Needs where the nodes and the probe points are: one read batch per fold, not per heartbeat.
 */
async function withExcess(db: D1Database, rows: FoldRow[]): Promise<(FoldRow & { excess: number | null })[]> {
  if (rows.length === 0) return [];
  const [located, probes] = await db.batch<{ id: string; lat: number; lon: number }>([
    db.prepare('SELECT id, lat, lon FROM nodes WHERE id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(rows.map((r) => r.id))),
    db.prepare('SELECT id, lat, lon FROM probe_points'),
  ]);
  const where = new Map(located!.results.map((n) => [n.id, n]));
  const index = buildProbeIndex(new Map(probes!.results.map((p) => [p.id, { lat: p.lat, lon: p.lon }])));
  return rows.map((row) => {
    const at = where.get(row.id);
    if (!at) return { ...row, excess: null };
    return { ...row, excess: nodeRttExcess({ lat: at.lat, lon: at.lon, probes: parseSamples(row.probes) }, index) };
  });
}

function parseSamples(json: string): ProbeSample[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((p): p is ProbeSample => typeof p?.target === 'string' && typeof p?.rttMs === 'number') : [];
  } catch {
    return [];
  }
}
