import type { Db } from '../app-env.ts';
import type { NodeStatus } from '../live/liveness.ts';

// Reads the pages need beyond the summary; each is bounded by a LIMIT on an index.

export interface RecentNodeRow {
  id: string;
  name: string;
  status: NodeStatus;
  simulated: number;
  country: string;
  gpus: number;
}

/** The newest registrations: rowid order is insertion order, so this reads `limit` rows. */
export async function recentNodes(db: Db, limit: number): Promise<RecentNodeRow[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT n.id, n.name, n.status, n.simulated, n.country,
              (SELECT coalesce(sum(count), 0) FROM node_gpus g WHERE g.node_id = n.id) AS gpus
       FROM nodes n ORDER BY n.rowid DESC LIMIT ?`,
    )
    .bind(limit)
    .all<RecentNodeRow>();
  return results;
}

export interface NodeEventRow {
  kind: 'registered' | 'online' | 'offline';
  at: number;
  detail: string;
}

/** The node's latest status events, newest first (node_events_node_idx). */
export async function nodeEvents(db: Db, nodeId: string, limit: number): Promise<NodeEventRow[]> {
  const { results } = await db.$client
    .prepare('SELECT kind, at, detail FROM node_events WHERE node_id = ? ORDER BY at DESC, id DESC LIMIT ?')
    .bind(nodeId, limit)
    .all<NodeEventRow>();
  return results;
}
