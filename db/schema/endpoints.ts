import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Inference endpoints (issue 12): a renter's HTTP server run as replicas on nodes, reached at
// /e/{endpointId}/…. Every record is described in workers/endpoints/README.md. Amounts are
// integers in base units of the token; times are Unix milliseconds on the Worker's clock.
// The renter's hold is the ledger account `escrow:<endpointId>` (as a job's escrow).

export const ENDPOINT_STATUSES = [
  'active', // replicas are placed and scaled between min and max
  'stopped', // the hold could not be refilled: replicas stopped, nothing runs unpaid (PATCH restarts)
  'deleted', // DELETE: replicas stopped, the hold refunded; the row stays for the record
] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/**
 * What the gateway does with `/e/{endpointId}` before the replica: `strip` it (the replica sees
 * `/v1/…`, as an OpenAI-style server expects), or `keep` the full path (apps that build their
 * links and WebSocket URLs under a base URL, as Jupyter does; the replica gets
 * GRIDPLANE_BASE_PATH=/e/{endpointId}/ to configure it with).
 */
export const ENDPOINT_PATH_PREFIXES = ['strip', 'keep'] as const;
export type EndpointPathPrefix = (typeof ENDPOINT_PATH_PREFIXES)[number];

export const endpoints = sqliteTable(
  'endpoints',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    /** `<accountId>:<Idempotency-Key>` when the renter sent one; null otherwise. */
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the canonical create request, so a retry with other parameters is refused. */
    requestHash: text('request_hash').notNull(),
    name: text('name').notNull(),
    image: text('image').notNull(),
    /** JSON array of strings. */
    command: text('command').notNull().default('[]'),
    /** JSON object; every value is treated as a secret (only the nodes running a replica see it). */
    env: text('env').notNull().default('{}'),
    port: integer('port').notNull(),
    healthPath: text('health_path').notNull(),
    /** Catalogue names accepted (JSON array); null: any model. */
    gpuModels: text('gpu_models'),
    gpuCount: integer('gpu_count').notNull(),
    minVramMb: integer('min_vram_mb').notNull().default(0),
    minReplicas: integer('min_replicas').notNull(),
    maxReplicas: integer('max_replicas').notNull(),
    /** JSON array of `{ lat, lon, name? }` points to place replicas near first, in order. */
    regions: text('regions').notNull().default('[]'),
    /** Base units per GPU-hour; nodes above it are never used. */
    maxPricePerGpuHour: integer('max_price_per_gpu_hour').notNull(),
    /** Scale out when in-flight requests per ready replica exceed this. */
    targetInflight: integer('target_inflight').notNull(),
    /** Seconds without requests before scaling to zero; null: never. */
    idleS: integer('idle_s'),
    public: integer('public', { mode: 'boolean' }).notNull().default(false),
    /** `strip` or `keep` the `/e/{id}` prefix on the way to the replica (ENDPOINT_PATH_PREFIXES). */
    pathPrefix: text('path_prefix', { enum: ENDPOINT_PATH_PREFIXES }).notNull().default('strip'),
    status: text('status', { enum: ENDPOINT_STATUSES }).notNull(),
    statusReason: text('status_reason'),
    /** Bumped by an image roll-out: replicas of older generations are replaced one by one. */
    generation: integer('generation').notNull().default(1),
    /** Replicas the scaler wants now (min ≤ desired ≤ max, or 0 when scaled to zero). */
    desiredReplicas: integer('desired_replicas').notNull(),
    /** Last time requests were seen (gateway wake, tunnel load counters moving): drives scale to zero. */
    lastActiveAt: integer('last_active_at').notNull(),
    /** Counts hold top-ups: the next one's ledger key is `endpoint:<id>:hold:<seq+1>`; bumped by compare-and-swap. */
    holdSeq: integer('hold_seq').notNull().default(0),
    /** When the renter was last told the balance runs low (one alert per episode). */
    lowBalanceAlertedAt: integer('low_balance_alerted_at'),
    /** A template rental's end (chat /rent of a template): the cron stops the endpoint then. Null: runs until stopped. */
    stopAt: integer('stop_at'),
    /**
     * The end (`stop_at`) of a rental whose `rental_ended` alert is still owed: set by the UPDATE
     * that stops it (so the stop and the debt are one write), cleared once the alert is queued.
     */
    endAlertDue: integer('end_alert_due'),
    /** Bumped by every change of the row: writers compare-and-swap on it. */
    version: integer('version').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    uniqueIndex('endpoints_idempotency_unique').on(t.idempotencyKey),
    index('endpoints_account_idx').on(t.accountId, t.createdAt),
    index('endpoints_status_idx').on(t.status),
    check('endpoints_replicas_range', sql`${t.minReplicas} >= 0 AND ${t.maxReplicas} >= 1 AND ${t.minReplicas} <= ${t.maxReplicas}`),
    check('endpoints_gpu_count_positive', sql`${t.gpuCount} > 0`),
  ],
);

export const REPLICA_ROW_STATES = [
  'placed', // in the node's desired set, no report yet
  'starting',
  'ready', // billed from ready_since on
  'unhealthy', // health checks failing; not billed, not routed
  'unreachable', // the node's tunnel closed; not billed until it reports again
  'failed', // the agent gave up on it; replaced by the cron
  'stopped', // out of the node's desired set for good
] as const;
export type ReplicaRowState = (typeof REPLICA_ROW_STATES)[number];

export const endpointReplicas = sqliteTable(
  'endpoint_replicas',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id').notNull(),
    nodeId: text('node_id').notNull(),
    generation: integer('generation').notNull(),
    state: text('state', { enum: REPLICA_ROW_STATES }).notNull(),
    reason: text('reason'),
    /** When it entered its current state (Worker clock): a replica stuck starting, unhealthy or unreachable is replaced after a while. */
    stateSince: integer('state_since').notNull().default(0),
    /** The node's price per GPU-hour when placed: what every second of this replica is billed at. */
    pricePerGpuHour: integer('price_per_gpu_hour').notNull(),
    gpuCount: integer('gpu_count').notNull(),
    placedAt: integer('placed_at').notNull(),
    /** Start of the current ready period (Worker clock); null when not ready. */
    readySince: integer('ready_since'),
    /** Ready milliseconds of the periods already closed (Worker clock). */
    readyMs: integer('ready_ms').notNull().default(0),
    /** Highest cumulative ready ms the node signed for, with its signature (a receipt anyone can check again). */
    receiptReadyMs: integer('receipt_ready_ms').notNull().default(0),
    receiptAt: integer('receipt_at'),
    receiptSignature: text('receipt_signature'),
    /** Ready ms already billed: min(observed, receipt) at the last bill. Only grows. */
    billedMs: integer('billed_ms').notNull().default(0),
    /** Base units taken from the hold for this replica so far, and the protocol fee within them. */
    billedAmount: integer('billed_amount').notNull().default(0),
    billedFee: integer('billed_fee').notNull().default(0),
    /** The tunnel's `started` counter for this replica at the last cron: a change means requests came. */
    requestsSeen: integer('requests_seen').notNull().default(0),
    /** Set when the replica leaves its node's desired set. */
    stoppedAt: integer('stopped_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('endpoint_replicas_endpoint_idx').on(t.endpointId, t.stoppedAt),
    index('endpoint_replicas_node_idx').on(t.nodeId, t.stoppedAt),
    index('endpoint_replicas_live_idx').on(t.stoppedAt, t.state),
    check('endpoint_replicas_billed_le_receipt', sql`${t.billedMs} <= ${t.receiptReadyMs}`),
    check(
      'endpoint_replicas_billed_non_negative',
      sql`${t.billedMs} >= 0 AND ${t.billedAmount} >= 0 AND ${t.billedFee} >= 0 AND ${t.billedFee} <= ${t.billedAmount}`,
    ),
  ],
);

/** Per-endpoint access keys (`gpe_…`): shown once, only the SHA-256 stored. */
export const endpointKeys = sqliteTable(
  'endpoint_keys',
  {
    hash: text('hash').primaryKey(),
    endpointId: text('endpoint_id').notNull(),
    /** `gpe_` and the next 8 characters: what lists show and DELETE takes. */
    prefix: text('prefix').notNull(),
    name: text('name').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    index('endpoint_keys_endpoint_idx').on(t.endpointId, t.revokedAt),
    uniqueIndex('endpoint_keys_prefix_unique').on(t.endpointId, t.prefix),
  ],
);

/**
 * Traffic of the endpoint URLs per (endpoint, minute, caller cell), written by the gateway
 * (workers/gateway/traffic-stats.ts): each isolate adds its counts every few seconds. For the
 * bots' and explorer's views (requests per minute, median time to first byte from the buckets)
 * and for placement near where callers are. `cell` is the caller's 5° cell (`geoCell`) or `unknown`.
 */
export const endpointTraffic = sqliteTable(
  'endpoint_traffic',
  {
    endpointId: text('endpoint_id').notNull(),
    /** Start of the minute, Unix ms. */
    minute: integer('minute').notNull(),
    cell: text('cell').notNull(),
    requests: integer('requests').notNull().default(0),
    /** Answers with status >= 500 (the gateway's own and the replicas'). */
    errors: integer('errors').notNull().default(0),
    // Time to first byte at the gateway, counted in buckets (upper bounds in ms; the last is the rest).
    ttfbLe25: integer('ttfb_le_25').notNull().default(0),
    ttfbLe50: integer('ttfb_le_50').notNull().default(0),
    ttfbLe100: integer('ttfb_le_100').notNull().default(0),
    ttfbLe250: integer('ttfb_le_250').notNull().default(0),
    ttfbLe500: integer('ttfb_le_500').notNull().default(0),
    ttfbLe1000: integer('ttfb_le_1000').notNull().default(0),
    ttfbLe2500: integer('ttfb_le_2500').notNull().default(0),
    ttfbGt2500: integer('ttfb_gt_2500').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.endpointId, t.minute, t.cell] }), index('endpoint_traffic_minute_idx').on(t.minute)],
);
