import { and, asc, count, desc, eq, gt, inArray, like, sql } from 'drizzle-orm';
import { accounts, nodeEvents, nodeGpus, nodes } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { matchingModels } from '../../protocol/gpu-catalog.ts';
import { geoCell } from '../routing/geo.ts';
import type { GpuRow, NodeRow } from './node-view.ts';
import type { RegisterNodeInput } from './node-input.schema.ts';
import { runBatch, type BatchStatement as BatchItem } from '../ledger/d1-batch.ts';

/** The GPU rows a registration writes, as the verification's inventory hash reads them. */
export const claimedGpus = (input: RegisterNodeInput) =>
  input.gpus.map((g) => ({ model: g.model, count: g.count, simulated: g.simulated === true }));

const nodeColumns = {
  id: nodes.id,
  owner: nodes.owner,
  name: nodes.name,
  status: nodes.status,
  simulated: nodes.simulated,
  lat: nodes.lat,
  lon: nodes.lon,
  country: nodes.country,
  pricePerGpuHour: nodes.pricePerGpuHour,
  agentVersion: nodes.agentVersion,
  registeredAt: nodes.registeredAt,
  lastSeenAt: nodes.lastSeenAt,
  onlineMs: nodes.onlineMs,
  probes: nodes.probes,
  reputation: nodes.reputation,
  suspended: nodes.suspended,
  stakeTotal: nodes.stakeTotal,
  verifiedAt: nodes.verifiedAt,
  eligible: nodes.eligible,
};

export async function findNode(db: Db, id: string): Promise<NodeRow | undefined> {
  return db.select(nodeColumns).from(nodes).where(eq(nodes.id, id)).get();
}

export async function gpusOf(db: Db, nodeIds: string[]): Promise<Map<string, GpuRow[]>> {
  const byNode = new Map<string, GpuRow[]>();
  if (nodeIds.length === 0) return byNode;
  // One JSON parameter instead of one per id: D1 allows 100 bound parameters per query.
  const rows = await db
    .select({
      nodeId: nodeGpus.nodeId,
      model: nodeGpus.model,
      canonicalModel: nodeGpus.canonicalModel,
      vramMb: nodeGpus.vramMb,
      count: nodeGpus.count,
      simulated: nodeGpus.simulated,
    })
    .from(nodeGpus)
    .where(sql`${nodeGpus.nodeId} IN (SELECT value FROM json_each(${JSON.stringify(nodeIds)}))`)
    .orderBy(asc(nodeGpus.model));
  for (const { nodeId, ...gpu } of rows) {
    const list = byNode.get(nodeId) ?? [];
    list.push(gpu);
    byNode.set(nodeId, list);
  }
  return byNode;
}

/**
 * Creates or updates a node, its GPUs, (when new) its `registered` event and `also` (what the
 * new inventory does to its verification) in one D1 batch, which D1 runs as one transaction.
 */
export async function upsertNode(
  db: Db,
  id: string,
  input: RegisterNodeInput,
  priceBaseUnits: number,
  nowMs: number,
  isNew: boolean,
  also: BatchItem[] = [],
): Promise<void> {
  const cell = geoCell(input.location.lat, input.location.lon);
  const simulated = input.gpus.some((g) => g.simulated === true);
  const values = {
    id,
    owner: input.owner,
    name: input.name,
    status: 'online' as const,
    simulated,
    lat: input.location.lat,
    lon: input.location.lon,
    country: input.location.country,
    geoCell: cell,
    pricePerGpuHour: priceBaseUnits,
    agentVersion: input.agentVersion,
    registeredAt: nowMs,
    updatedAt: nowMs,
    lastSeenAt: nowMs,
  };
  const detail = JSON.stringify({ name: input.name, simulated });
  const event = db.insert(nodeEvents).values({ nodeId: id, kind: 'registered', at: nowMs, detail });
  const gpuRows = input.gpus.map((g) => ({
    nodeId: id,
    model: g.model,
    canonicalModel: matchingModels(g.model)[0]?.name ?? g.model,
    vramMb: g.vramMb,
    count: g.count,
    simulated: g.simulated === true,
    geoCell: cell,
  }));
  const upsert = db
    .insert(nodes)
    .values(values)
    .onConflictDoUpdate({
      target: nodes.id,
      set: {
        name: values.name,
        status: 'online',
        simulated,
        lat: values.lat,
        lon: values.lon,
        country: values.country,
        geoCell: cell,
        pricePerGpuHour: priceBaseUnits,
        agentVersion: values.agentVersion,
        updatedAt: nowMs,
        lastSeenAt: nowMs,
      },
    });
  const replaceGpus = [db.delete(nodeGpus).where(eq(nodeGpus.nodeId, id)), db.insert(nodeGpus).values(gpuRows)] as const;
  await runBatch(db, [upsert, ...replaceGpus, ...(isNew ? [event] : []), ...also]);
}

export interface ListFilter {
  status?: 'online' | 'offline';
  gpu?: string;
  country?: string;
  owner?: string;
  after?: string;
  limit: number;
}

/** Keyset pagination on the primary key: stable under inserts, no OFFSET scans. */
export async function listNodes(db: Db, filter: ListFilter): Promise<NodeRow[]> {
  const conditions = [
    filter.status ? eq(nodes.status, filter.status) : undefined,
    filter.country ? eq(nodes.country, filter.country.toUpperCase()) : undefined,
    filter.owner ? eq(nodes.owner, filter.owner) : undefined,
    filter.after ? gt(nodes.id, filter.after) : undefined,
  ];
  if (filter.gpu) {
    const names = matchingModels(filter.gpu).map((m) => m.name);
    const models = names.length > 0 ? names : [filter.gpu];
    conditions.push(inArray(nodes.id, db.select({ id: nodeGpus.nodeId }).from(nodeGpus).where(inArray(nodeGpus.canonicalModel, models))));
  }
  return db
    .select(nodeColumns)
    .from(nodes)
    .where(and(...conditions))
    .orderBy(asc(nodes.id))
    .limit(filter.limit + 1);
}

/**
 * Nodes a person names (`/status rig`, `/stake rig 50`): the node with this id and those with this
 * name in any case (names are not unique), the id first, then online ones. Both through an index
 * (the primary key, nodes_name_idx).
 */
export async function nodesNamed(db: Db, ref: string, limit: number): Promise<NodeRow[]> {
  return db
    .select(nodeColumns)
    .from(nodes)
    .where(sql`(${nodes.id} = ${ref} OR ${nodes.name} = ${ref} COLLATE NOCASE)`)
    .orderBy(sql`${nodes.id} = ${ref} DESC`, desc(nodes.status), asc(nodes.id))
    .limit(limit);
}

/** Unsuspended nodes whose name starts as typed (any case), by name: pickers for any node. */
export async function nodesByNamePrefix(db: Db, prefix: string, limit: number) {
  const p = prefix.replace(/[%_\\]/g, '');
  return db
    .select({ id: nodes.id, name: nodes.name, status: nodes.status, country: nodes.country, owner: nodes.owner, eligible: nodes.eligible })
    .from(nodes)
    .where(and(like(nodes.name, `${p}%`), eq(nodes.suspended, false)))
    .orderBy(sql`${nodes.name} COLLATE NOCASE`, asc(nodes.id))
    .limit(limit);
}

/** Names of these nodes, by id (a stake list names what it is on). */
export async function nodeNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: nodes.id, name: nodes.name }).from(nodes).where(inArray(nodes.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Which of an account's nodes: one by id or name, those whose name starts so, or all. */
export interface OwnedFilter {
  /** A node id or name; the id wins when both match. */
  ref?: string;
  namePrefix?: string;
  limit: number;
}

/**
 * The nodes owned by the account's wallet (an account without a wallet owns none), online first,
 * then by name. The one query for "nodes owned by this account": chat menus, /mynodes and alert
 * subscriptions all read it.
 */
export async function nodesOwnedBy(db: Db, accountId: string, filter: OwnedFilter) {
  const prefix = filter.namePrefix?.replace(/[%_]/g, '');
  return db
    .select({ id: nodes.id, name: nodes.name, status: nodes.status, pricePerGpuHour: nodes.pricePerGpuHour })
    .from(nodes)
    .innerJoin(accounts, eq(accounts.wallet, nodes.owner))
    .where(
      and(
        eq(accounts.id, accountId),
        filter.ref !== undefined ? sql`(${nodes.id} = ${filter.ref} OR ${nodes.name} = ${filter.ref})` : undefined,
        prefix ? like(nodes.name, `${prefix}%`) : undefined,
      ),
    )
    .orderBy(...(filter.ref !== undefined ? [sql`${nodes.id} = ${filter.ref} DESC`] : []), desc(nodes.status), asc(nodes.name))
    .limit(filter.limit);
}

export async function countNodesOwnedBy(db: Db, accountId: string): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(nodes)
    .innerJoin(accounts, eq(accounts.wallet, nodes.owner))
    .where(eq(accounts.id, accountId))
    .get();
  return row?.n ?? 0;
}

/** What can be rented right now, per catalogue model; see rentableNow. */
export interface Rentable {
  model: string;
  /** The most GPUs of this model free on one node: the largest count one job can get. */
  maxGpus: number;
  nodes: number;
}

/**
 * Per catalogue model, the most free GPUs one node can give a job now, read from the flag the
 * quote's own pre-filter reads (node_gpus.route_rank > 0: online, eligible, unsuspended, a GPU
 * free; kept by migration 0013's triggers) and the node row checked as the quote checks it. A
 * chat menu offers only these, so every choice it shows has a node that can take it.
 */
export async function rentableModels(db: Db): Promise<Rentable[]> {
  const rows = await db.$client
    .prepare(
      `SELECT model, MAX(free) AS maxGpus, COUNT(*) AS nodes FROM (
         SELECT g.canonical_model AS model, SUM(g.free) AS free FROM node_gpus AS g JOIN nodes AS n ON n.id = g.node_id
         WHERE g.route_rank > 0 AND g.free > 0 AND n.status = 'online' AND n.eligible = 1 AND n.suspended = 0
         GROUP BY g.node_id, g.canonical_model)
       GROUP BY model`,
    )
    .all<Rentable>();
  return rows.results;
}

/** Why nothing may be rentable: online nodes, and those of them eligible for jobs. */
export async function onlineNodeCounts(db: Db): Promise<{ online: number; eligible: number }> {
  const row = await db.$client
    .prepare("SELECT COUNT(*) AS online, COALESCE(SUM(eligible = 1 AND suspended = 0), 0) AS eligible FROM nodes WHERE status = 'online'")
    .first<{ online: number; eligible: number }>();
  return row ?? { online: 0, eligible: 0 };
}

/** Canonical GPU models some online, unsuspended node has. */
export async function onlineGpuModels(db: Db): Promise<string[]> {
  const rows = await db
    .selectDistinct({ model: nodeGpus.canonicalModel })
    .from(nodeGpus)
    .innerJoin(nodes, eq(nodes.id, nodeGpus.nodeId))
    .where(and(eq(nodes.status, 'online'), eq(nodes.suspended, false)));
  return rows.map((r) => r.model);
}
