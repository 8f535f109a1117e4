import type { Db } from '../app-env.ts';
import type { GpuRow, NodeRow } from './node-view.ts';
import {
  countNodesOwnedBy,
  findNode,
  gpusOf,
  listNodes,
  nodeNames,
  nodesByNamePrefix,
  onlineNodeCounts,
  rentableModels,
  type Rentable,
  nodesNamed,
  nodesOwnedBy,
  onlineGpuModels,
  type ListFilter,
  type OwnedFilter,
} from './nodes.repo.ts';

// The registry's read operations, shared by the HTTP routes (nodes.app.ts), the chat bots
// (bots/core/bot-ops.ts) and the alert subscriptions: each question is answered by one function.

export type OwnedNode = Awaited<ReturnType<typeof nodesOwnedBy>>[number];

/** A node with its GPUs, or undefined when there is no such node (`GET /v1/nodes/{id}`, `/status`). */
export async function nodeWithGpus(db: Db, nodeId: string): Promise<{ node: NodeRow; gpus: GpuRow[] } | undefined> {
  const node = await findNode(db, nodeId);
  if (!node) return undefined;
  return { node, gpus: (await gpusOf(db, [nodeId])).get(nodeId) ?? [] };
}

/**
 * Nodes matching a filter with their GPUs (`GET /v1/nodes`, `/nodes`). `rows` holds up to
 * `limit + 1` rows (the extra one says another page exists); GPUs are read for the first `limit`.
 */
export async function listNodesWithGpus(db: Db, filter: ListFilter): Promise<{ rows: NodeRow[]; gpus: Map<string, GpuRow[]> }> {
  const rows = await listNodes(db, filter);
  return {
    rows,
    gpus: await gpusOf(
      db,
      rows.slice(0, filter.limit).map((r) => r.id),
    ),
  };
}

/** The nodes the account's wallet owns (see nodesOwnedBy): `/mynodes`, node menus, `/alerts`. */
export function ownedNodes(db: Db, accountId: string, filter: OwnedFilter): Promise<OwnedNode[]> {
  return nodesOwnedBy(db, accountId, filter);
}

/** One node the account owns, by id or name; null when it owns none by that name. */
export async function ownedNode(db: Db, accountId: string, ref: string): Promise<OwnedNode | null> {
  return (await nodesOwnedBy(db, accountId, { ref, limit: 1 }))[0] ?? null;
}

export function ownedNodeCount(db: Db, accountId: string): Promise<number> {
  return countNodesOwnedBy(db, accountId);
}

/** GPU models some online node has now, for the chat's model menu. */
export function availableGpuModels(db: Db): Promise<string[]> {
  return onlineGpuModels(db);
}

/** The nodes a person means by an id or a name (several when a name is shared; see nodesNamed). */
export function nodesByRef(db: Db, ref: string, limit: number): Promise<NodeRow[]> {
  return nodesNamed(db, ref, limit);
}

/** Unsuspended nodes whose name starts as typed: a picker over every node (`/status`, delegating). */
export function nodeNameChoices(db: Db, prefix: string, limit: number) {
  return nodesByNamePrefix(db, prefix, limit);
}

export { nodeNames };

/** What a renter can have now, and when that is nothing, why. */
export interface RentableNow {
  models: Rentable[];
  /** Read only when no model is rentable. */
  online?: number;
  eligible?: number;
}

/**
 * Models with a node that can take a job now (the most GPUs one node gives each); when there is
 * none, how many nodes are online and how many of those are eligible, so the chat can say why.
 * Not cached: a menu that offers a model must have a node for it, and a chat's /rent is rare next
 * to quotes (one read of the GPU rows that can take a job; the quote at the end of the flow reads
 * the nodes again, as POST /v1/quotes does).
 */
export async function rentableNow(db: Db): Promise<RentableNow> {
  const models = await rentableModels(db);
  return { models, ...(models.length > 0 ? {} : await onlineNodeCounts(db)) };
}
