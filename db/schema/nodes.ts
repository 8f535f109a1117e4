import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The node registry. Live heartbeat state lives in the NodeShard Durable Objects and is folded
 * in here in batches (see workers/live/README.md), so `lastSeenAt`/`onlineMs` lag by at most
 * LIVE_FOLD_INTERVAL_S while `status` follows every transition within seconds.
 */
export const nodes = sqliteTable(
  'nodes',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    name: text('name').notNull(),
    status: text('status', { enum: ['online', 'offline'] }).notNull(),
    simulated: integer('simulated', { mode: 'boolean' }).notNull().default(false),
    lat: real('lat').notNull(),
    lon: real('lon').notNull(),
    country: text('country').notNull(),
    /** Coarse location cell, so routing can pre-filter without scanning every node. */
    geoCell: text('geo_cell').notNull(),
    /** Base units of the token per GPU-hour. */
    pricePerGpuHour: integer('price_per_gpu_hour').notNull(),
    agentVersion: text('agent_version').notNull(),
    registeredAt: integer('registered_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    /** Milliseconds online since registration, from server receive times. */
    onlineMs: integer('online_ms').notNull().default(0),
    /** Latest probe round-trip times, JSON `[{ target, rttMs }]`. */
    probes: text('probes').notNull().default('[]'),
    reputation: real('reputation').notNull().default(1),
    suspended: integer('suspended', { mode: 'boolean' }).notNull().default(false),
    /** Staking and verification (workers/staking/README.md): bonded stake, last pass, and the one flag quotes read. */
    stakeTotal: integer('stake_total').notNull().default(0),
    verifiedAt: integer('verified_at'),
    eligible: integer('eligible', { mode: 'boolean' }).notNull().default(false),
    /** The node's typical RTT excess over the geographic baseline (its access line), from its folded probes; null: not measured. */
    rttExcessMs: real('rtt_excess_ms'),
  },
  (t) => [
    index('nodes_status_idx').on(t.status, t.id),
    index('nodes_country_idx').on(t.country, t.id),
    index('nodes_owner_idx').on(t.owner),
    // Chats name nodes by name (`/status rig`, `/stake rig 50`, autocomplete by prefix), in any case.
    index('nodes_name_idx').on(sql`${t.name} COLLATE NOCASE`),
  ],
);

export const nodeGpus = sqliteTable(
  'node_gpus',
  {
    nodeId: text('node_id')
      .notNull()
      .references(() => nodes.id, { onDelete: 'cascade' }),
    /** The model string the agent reported, e.g. "NVIDIA GeForce RTX 4090". */
    model: text('model').notNull(),
    /** Catalogue key ("RTX 4090") or the reported model when it is not in the catalogue. */
    canonicalModel: text('canonical_model').notNull(),
    vramMb: integer('vram_mb').notNull(),
    count: integer('count').notNull(),
    simulated: integer('simulated', { mode: 'boolean' }).notNull().default(false),
    geoCell: text('geo_cell').notNull(),
    /**
     * Kept by triggers (migration 0013, workers/jobs/README.md "Quotes"), never written by code:
     * GPUs of this group not committed to jobs, the node's price, and the renter-independent
     * route rank (0: the node cannot take a job now — offline, not eligible, or no free GPU).
     */
    free: integer('free').notNull().default(0),
    price: integer('price').notNull().default(0),
    routeRank: integer('route_rank').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.nodeId, t.model] }),
    // Quotes read the K best rows per (model, cell); the trailing columns filter inside the index.
    index('node_gpus_route_idx').on(t.canonicalModel, t.geoCell, t.routeRank, t.free, t.vramMb, t.price),
    // …and a sample near the renter in node-id order (an arbitrary order), same filters.
    index('node_gpus_near_idx').on(t.canonicalModel, t.geoCell, t.nodeId, t.routeRank, t.free, t.vramMb, t.price),
  ],
);

/**
 * Every geo cell that ever held a node, kept by triggers on nodes (migration 0016). Quotes skip
 * cells not listed here, so a ring over empty ocean costs no D1 reads. Never shrinks: a cell a
 * node left is cheap to keep asking.
 */
export const geoCellsUsed = sqliteTable('geo_cells_used', {
  geoCell: text('geo_cell').primaryKey(),
});

/** Status transitions and registry events (an admin's suspension and its lifting included); operators' alerts are driven from here. */
export const nodeEvents = sqliteTable(
  'node_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    nodeId: text('node_id').notNull(),
    kind: text('kind', { enum: ['registered', 'online', 'offline', 'suspended', 'unsuspended'] }).notNull(),
    at: integer('at').notNull(),
    detail: text('detail').notNull().default('{}'),
  },
  (t) => [index('node_events_node_idx').on(t.nodeId, t.at), index('node_events_at_idx').on(t.at)],
);

export const probePoints = sqliteTable('probe_points', {
  id: text('id').primaryKey(),
  lat: real('lat').notNull(),
  lon: real('lon').notNull(),
  url: text('url'),
  updatedAt: integer('updated_at').notNull().default(sql`(unixepoch() * 1000)`),
});
