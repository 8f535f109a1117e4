import type { Db } from '../app-env.ts';
import { getJob, type JobRow } from '../jobs/jobs.repo.ts';

// Suspension's queries and statements (the operation is suspension.service.ts).

/** The event (only when this call suspends) and the flag; the service adds eligibility, one batch. */
export function suspendStatements(db: Db, nodeId: string, reason: string, nowMs: number): D1PreparedStatement[] {
  const client = db.$client;
  return [
    client
      .prepare(
        `INSERT INTO node_events (node_id, kind, at, detail)
         SELECT id, 'suspended', ?2, ?3 FROM nodes WHERE id = ?1 AND suspended = 0`,
      )
      .bind(nodeId, nowMs, JSON.stringify({ reason })),
    client.prepare('UPDATE nodes SET suspended = 1, updated_at = ?2 WHERE id = ?1 AND suspended = 0').bind(nodeId, nowMs),
  ];
}

export function unsuspendStatements(db: Db, nodeId: string, nowMs: number): D1PreparedStatement[] {
  const client = db.$client;
  return [
    client
      .prepare(
        `INSERT INTO node_events (node_id, kind, at, detail) SELECT id, 'unsuspended', ?2, '{}' FROM nodes WHERE id = ?1 AND suspended = 1`,
      )
      .bind(nodeId, nowMs),
    client.prepare('UPDATE nodes SET suspended = 0, updated_at = ?2 WHERE id = ?1 AND suspended = 1').bind(nodeId, nowMs),
  ];
}

export async function nodeExists(db: Db, nodeId: string): Promise<boolean> {
  return (await db.$client.prepare('SELECT 1 AS one FROM nodes WHERE id = ?').bind(nodeId).first()) !== null;
}

/** The node's placed jobs (at most `limit`), with their status. */
export async function placedJobsOf(db: Db, nodeId: string, limit: number): Promise<{ id: string; status: string }[]> {
  const { results } = await db.$client
    .prepare(`SELECT id, status FROM jobs WHERE node_id = ?1 AND status IN ('assigned', 'starting', 'running') LIMIT ?2`)
    .bind(nodeId, limit)
    .all<{ id: string; status: string }>();
  return results;
}

/** Placed jobs of suspended nodes, for the sweeper (the (status, …) index, then the node's flag). */
export async function jobsOnSuspendedNodes(db: Db, limit: number): Promise<(JobRow & { nodeId: string })[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT j.id FROM jobs j JOIN nodes n ON n.id = j.node_id
       WHERE j.status IN ('assigned', 'starting', 'running') AND n.suspended = 1 LIMIT ?1`,
    )
    .bind(limit)
    .all<{ id: string }>();
  const rows = await Promise.all(results.map((r) => getJob(db, r.id)));
  return rows.filter((j): j is JobRow & { nodeId: string } => j !== undefined && j.nodeId !== null);
}

/** The node's latest suspension event. */
export async function latestSuspension(db: Db, nodeId: string): Promise<{ id: number; at: number; reason: string }> {
  const row = await db.$client
    .prepare(`SELECT id, at, detail FROM node_events WHERE node_id = ? AND kind = 'suspended' ORDER BY id DESC LIMIT 1`)
    .bind(nodeId)
    .first<{ id: number; at: number; detail: string }>();
  if (!row) throw new Error(`node ${nodeId} is suspended without a suspension event`);
  const detail = JSON.parse(row.detail) as { reason?: unknown };
  return { id: row.id, at: row.at, reason: typeof detail.reason === 'string' ? detail.reason : '' };
}
