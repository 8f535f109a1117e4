// Over 300 lines: a Durable Object class is one file; its logic is already in liveness.ts, fold.ts, shard-tables.ts and shard-jobs.ts, and what is left is the object's RPC surface.
import { DurableObject } from 'cloudflare:workers';
import { dbOf, type Db } from '../app-env.ts';
import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { applyHeartbeat, isOverdue, offlineTransition, type LiveRecord, type NodeStatus, type Transition } from './liveness.ts';
import { flushToD1, type FoldRow, type EventRow } from './fold.ts';
import { GpuHeatTracker } from '../alerts/gpu-heat.ts';
import { createShardTables } from './shard-tables.ts';
import { emitAlert } from '../alerts/emit-alert.ts';
import { ShardJobs, type AgentJob } from '../jobs/shard-jobs.ts';

export interface HeartbeatInput {
  nodeId: string;
  /** null: the caller already consumed it at the node's nonce home (shard-stub.ts). */
  nonce: string | null;
  timestampMs: number;
  nowMs: number;
  gpus: unknown[];
  probes: { target: string; rttMs: number }[];
  /** Job ids the agent runs; ids this shard does not hold come back as `stopJobs`. */
  runningJobs?: string[];
}

export interface RegisterInput {
  nodeId: string;
  /** null: the caller already consumed it at the node's nonce home (shard-stub.ts). */
  nonce: string | null;
  timestampMs: number;
  nowMs: number;
}

export type ShardRefusal = { ok: false; reason: 'replayed_request' | 'unknown_node' | 'node_suspended' };

/** What the node's nonce home says of a signed request: served, a replay, or from a suspended node. */
export type AdmitVerdict = 'ok' | 'replayed_request' | 'node_suspended';

export interface LiveView {
  status: NodeStatus;
  lastSeenAt: number;
  onlineMs: number;
  gpus: unknown[];
  probes: { target: string; rttMs: number }[];
}

/** Nonces are remembered a little longer than the freshness window, so a replay is always seen. */
const NONCE_TTL_MS = 2 * 300_000 + 60_000;
/** Status transitions reach D1 this soon; routine liveness waits for LIVE_FOLD_INTERVAL_S. */
const EVENT_FLUSH_DELAY_MS = 1_000;

/**
 * Live state for the nodes of one shard: heartbeats land here, in the DO's own SQLite, never in
 * D1. Transitions and periodic folds go to D1 in a few set-based statements (see fold.ts).
 */
export class NodeShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Jobs held by this shard's nodes and the agents' WebSocket streams (workers/jobs/shard-jobs.ts). */
  private readonly jobs: ShardJobs;
  /** Which nodes run hot: a temperature alert on each crossing, not on every heartbeat. */
  private readonly heat: GpuHeatTracker;
  /** D1, reached as everywhere (app-env.ts dbOf): the fold and the registry seed use its raw handle. */
  private readonly db: Db;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Every table of the shard, its parts' included, before any part reads one.
    createShardTables(this.sql);
    this.jobs = new ShardJobs(ctx);
    this.heat = new GpuHeatTracker(this.sql);
    this.db = dbOf(env);
  }

  private get offlineAfterMs(): number {
    const config = getConfig(this.env);
    return config.HEARTBEAT_INTERVAL_S * 1000 * config.missedHeartbeatsOffline;
  }

  /** Records the nonce; false when this node already used it inside the window. */
  private consumeNonce(nodeId: string, nonce: string, nowMs: number): boolean {
    const inserted = this.sql
      .exec(
        'INSERT INTO nonces (node_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1',
        nodeId,
        nonce,
        nowMs + NONCE_TTL_MS,
      )
      .toArray();
    return inserted.length === 1;
  }

  /** For signed routes other than heartbeats. */
  async checkNonce(nodeId: string, nonce: string, nowMs: number): Promise<boolean> {
    return this.consumeNonce(nodeId, nonce, nowMs);
  }

  /**
   * Every signed agent request passes here, at the node's nonce home (shard-stub.ts): a suspended
   * node is refused before its nonce is recorded, so the check costs no D1 read and no extra call.
   */
  async admit(nodeId: string, nonce: string, nowMs: number): Promise<AdmitVerdict> {
    if (this.isSuspended(nodeId)) return 'node_suspended';
    return this.consumeNonce(nodeId, nonce, nowMs) ? 'ok' : 'replayed_request';
  }

  /**
   * The admin's suspension (workers/nodes/suspension.service.ts), kept at the node's nonce home: every
   * signed request of the node is admitted there, whatever HEARTBEAT_SHARDS says. D1's
   * `nodes.suspended` is the record; this copy is what the hot path reads.
   */
  async setSuspended(nodeId: string, suspended: boolean, nowMs: number): Promise<void> {
    if (suspended) this.sql.exec('INSERT INTO suspended_nodes (node_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING', nodeId, nowMs);
    else this.sql.exec('DELETE FROM suspended_nodes WHERE node_id = ?', nodeId);
  }

  /** Closes the node's job streams (a suspended node hears nothing more); on its live shard. */
  async closeStreams(nodeId: string, reason: string): Promise<number> {
    return this.jobs.closeAll(nodeId, reason);
  }

  private isSuspended(nodeId: string): boolean {
    return this.sql.exec('SELECT 1 FROM suspended_nodes WHERE node_id = ?', nodeId).toArray().length > 0;
  }

  /** Registration: the node is alive right now. The D1 row is written by the caller. */
  async register(input: RegisterInput): Promise<{ ok: true; previous: LiveRecord | null } | ShardRefusal> {
    // A null nonce was admitted at the nonce home already (suspension included); else this is the home.
    if (input.nonce !== null && this.isSuspended(input.nodeId)) return { ok: false, reason: 'node_suspended' };
    if (input.nonce !== null && !this.consumeNonce(input.nodeId, input.nonce, input.nowMs))
      return { ok: false, reason: 'replayed_request' };
    const previous = this.readRecord(input.nodeId);
    const next = previous
      ? applyHeartbeat(previous, input.nowMs, this.offlineAfterMs)
      : { record: { status: 'online' as const, lastSeenAt: input.nowMs, onlineMs: 0 }, transitions: [] };
    // Registration writes its own D1 row and event, so only a comeback is queued here.
    this.writeRecord(input.nodeId, next.record, null, null, Dirty.Routine);
    this.queueTransitions(input.nodeId, previous ? next.transitions : []);
    return { ok: true, previous };
  }

  async heartbeat(input: HeartbeatInput): Promise<{ ok: true; status: NodeStatus; jobs: AgentJob[]; stopJobs: string[] } | ShardRefusal> {
    if (input.nonce !== null && this.isSuspended(input.nodeId)) return { ok: false, reason: 'node_suspended' };
    let record = this.readRecord(input.nodeId);
    if (!record) {
      record = await this.seedFromD1(input.nodeId);
      if (!record) return { ok: false, reason: 'unknown_node' };
    }
    if (input.nonce !== null && !this.consumeNonce(input.nodeId, input.nonce, input.nowMs))
      return { ok: false, reason: 'replayed_request' };
    const next = applyHeartbeat(record, input.nowMs, this.offlineAfterMs);
    const dirty = next.transitions.length > 0 ? Dirty.StatusChanged : Dirty.Routine;
    this.writeRecord(input.nodeId, next.record, JSON.stringify(input.gpus), JSON.stringify(input.probes), dirty);
    this.queueTransitions(input.nodeId, next.transitions);
    this.count('heartbeats', 1);
    const hot = this.heat.observe(input.nodeId, input.gpus, input.nowMs, getConfig(this.env).ALERT_GPU_TEMP_C);
    if (hot)
      await emitAlert(this.env, hot).then(
        () => this.heat.markHot(input.nodeId, input.nowMs),
        (error) => console.error('gpu_hot alert not emitted', error),
      );
    await this.ensureFoldAlarm(input.nowMs);
    return { ok: true, status: next.record.status, ...this.jobs.forHeartbeat(input.nodeId, input.runningJobs ?? []) };
  }

  // Jobs: offers, acceptance, withdrawal, and the agents' streams (hibernatable WebSockets).
  async offerJob(nodeId: string, job: AgentJob, nowMs: number): Promise<{ pushed: number }> {
    return this.jobs.offer(nodeId, job, nowMs);
  }

  async jobAccepted(nodeId: string, jobId: string): Promise<void> {
    this.jobs.accepted(nodeId, jobId);
  }

  async dropJob(nodeId: string, jobId: string, reason: string): Promise<{ pushed: number }> {
    return this.jobs.drop(nodeId, jobId, reason);
  }

  async streamConnections(nodeId: string): Promise<number> {
    return this.jobs.connections(nodeId);
  }

  /** Only the Worker's stream route calls this, after checking the agent's signature. */
  override async fetch(request: Request): Promise<Response> {
    return this.jobs.connect(request);
  }

  override async webSocketMessage(): Promise<void> {
    // Agents report over signed HTTP; anything but the auto-answered ping is ignored.
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'closed');
    } catch {
      // already closed
    }
  }

  async live(nodeId: string): Promise<LiveView | null> {
    const row = this.sql
      .exec<{ status: NodeStatus; last_seen_at: number; online_ms: number; gpus: string; probes: string }>(
        'SELECT status, last_seen_at, online_ms, gpus, probes FROM live_nodes WHERE node_id = ?',
        nodeId,
      )
      .toArray()[0];
    if (!row) return null;
    return {
      status: row.status,
      lastSeenAt: row.last_seen_at,
      onlineMs: row.online_ms,
      gpus: JSON.parse(row.gpus) as unknown[],
      probes: JSON.parse(row.probes) as LiveView['probes'],
    };
  }

  /**
   * Cron: mark silent nodes offline, forget expired nonces, and push status changes to D1.
   * `fold: true` also folds routine liveness now (admins, before maintenance or a shard resize).
   */
  async sweep(nowMs: number, options: { fold?: boolean } = {}): Promise<{ wentOffline: number; folded: number; events: number }> {
    const overdue = this.sql
      .exec<{ node_id: string; status: NodeStatus; last_seen_at: number; online_ms: number }>(
        "SELECT node_id, status, last_seen_at, online_ms FROM live_nodes WHERE status = 'online' AND last_seen_at < ?",
        nowMs - this.offlineAfterMs,
      )
      .toArray();
    for (const row of overdue) {
      const record = toRecord(row);
      if (!isOverdue(record, nowMs, this.offlineAfterMs)) continue;
      this.writeRecord(row.node_id, { ...record, status: 'offline' }, null, null, Dirty.StatusChanged);
      this.queueTransitions(row.node_id, [offlineTransition(record, nowMs)]);
    }
    this.sql.exec('DELETE FROM nonces WHERE expires_at < ?', nowMs);
    const flushed = await this.flush(options.fold ? Dirty.Routine : Dirty.StatusChanged);
    if (options.fold) this.setLastFoldAt(Date.now());
    return { wentOffline: overdue.length, ...flushed };
  }

  /**
   * The alarm folds routine liveness every LIVE_FOLD_INTERVAL_S. A pending status change pulls
   * it in to about a second, and then only urgent rows go, so the fold keeps its own rhythm.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const foldDue = this.lastFoldAt() + getConfig(this.env).LIVE_FOLD_INTERVAL_S * 1000 <= now;
    await this.flush(foldDue ? Dirty.Routine : Dirty.StatusChanged);
    if (foldDue) this.setLastFoldAt(now);
    const active = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM live_nodes WHERE dirty > 0 OR status = ?', 'online').one();
    if (active.n > 0) await this.ctx.storage.setAlarm(this.lastFoldAt() + getConfig(this.env).LIVE_FOLD_INTERVAL_S * 1000);
  }

  private lastFoldAt(): number {
    const row = this.sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = 'last_fold_at'").toArray()[0];
    return row?.value ?? 0;
  }

  private setLastFoldAt(at: number): void {
    this.sql.exec("INSERT INTO counters (name, value) VALUES ('last_fold_at', ?1) ON CONFLICT (name) DO UPDATE SET value = ?1", at);
  }

  /** Writes pending events and the live rows at least `level` dirty to D1, then clears them. */
  private async flush(level: typeof Dirty.Routine | typeof Dirty.StatusChanged): Promise<{ folded: number; events: number }> {
    const events = this.sql
      .exec<{ id: number; node_id: string; kind: string; at: number; detail: string }>(
        'SELECT id, node_id, kind, at, detail FROM pending_events ORDER BY id',
      )
      .toArray();
    const dirty = this.sql
      .exec<{ node_id: string; status: NodeStatus; last_seen_at: number; online_ms: number; probes: string }>(
        'SELECT node_id, status, last_seen_at, online_ms, probes FROM live_nodes WHERE dirty >= ?',
        level,
      )
      .toArray();
    if (events.length === 0 && dirty.length === 0) return { folded: 0, events: 0 };
    const eventRows: EventRow[] = events.map((e) => ({ nodeId: e.node_id, kind: e.kind, at: e.at, detail: e.detail }));
    const foldRows: FoldRow[] = dirty.map((d) => ({
      id: d.node_id,
      status: d.status,
      lastSeenAt: d.last_seen_at,
      onlineMs: d.online_ms,
      probes: d.probes,
    }));
    const written = await flushToD1(this.db.$client, foldRows, eventRows);
    this.count('d1_rows_written', written.rowsWritten);
    this.count('d1_queries', written.queries);
    // Only what was flushed is cleared: anything that arrived during the await stays pending.
    const maxEventId = events.at(-1)?.id ?? 0;
    this.sql.exec('DELETE FROM pending_events WHERE id <= ?', maxEventId);
    for (const d of dirty) {
      this.sql.exec(
        'UPDATE live_nodes SET dirty = 0 WHERE node_id = ? AND last_seen_at = ? AND status = ?',
        d.node_id,
        d.last_seen_at,
        d.status,
      );
    }
    return { folded: foldRows.length, events: eventRows.length };
  }

  /** Operational counters: what this shard received and what it cost D1. */
  async stats(): Promise<Record<string, number>> {
    const rows = this.sql.exec<{ name: string; value: number }>('SELECT name, value FROM counters').toArray();
    const nodes = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM live_nodes').one().n;
    return { nodes, ...Object.fromEntries(rows.map((r) => [r.name, r.value])) };
  }

  private count(name: string, by: number): void {
    this.sql.exec('INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = value + ?2', name, by);
  }

  private readRecord(nodeId: string): LiveRecord | null {
    const row = this.sql
      .exec<{ status: NodeStatus; last_seen_at: number; online_ms: number }>(
        'SELECT status, last_seen_at, online_ms FROM live_nodes WHERE node_id = ?',
        nodeId,
      )
      .toArray()[0];
    return row ? toRecord(row) : null;
  }

  /**
   * `dirty` is 1 for routine liveness (folded every LIVE_FOLD_INTERVAL_S) and 2 for a status
   * change (flushed within seconds, with its event).
   */
  private writeRecord(nodeId: string, record: LiveRecord, gpus: string | null, probes: string | null, dirty: Dirty): void {
    this.sql.exec(
      `INSERT INTO live_nodes (node_id, status, last_seen_at, online_ms, gpus, probes, dirty)
       VALUES (?1, ?2, ?3, ?4, coalesce(?5, '[]'), coalesce(?6, '[]'), ?7)
       ON CONFLICT (node_id) DO UPDATE SET status = ?2, last_seen_at = ?3, online_ms = ?4,
         gpus = coalesce(?5, gpus), probes = coalesce(?6, probes), dirty = max(dirty, ?7)`,
      nodeId,
      record.status,
      record.lastSeenAt,
      record.onlineMs,
      gpus,
      probes,
      dirty,
    );
  }

  private queueTransitions(nodeId: string, transitions: Transition[]): void {
    if (transitions.length === 0) return;
    for (const t of transitions) {
      this.sql.exec(
        'INSERT INTO pending_events (node_id, kind, at, detail) VALUES (?, ?, ?, ?)',
        nodeId,
        t.kind,
        t.at,
        JSON.stringify(t.detail),
      );
    }
    // Transitions should not wait for the routine fold: pull the alarm in.
    this.ctx.waitUntil(this.pullAlarmTo(Date.now() + EVENT_FLUSH_DELAY_MS));
  }

  private async ensureFoldAlarm(nowMs: number): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      if (this.lastFoldAt() === 0) this.setLastFoldAt(nowMs);
      await this.ctx.storage.setAlarm(Math.max(nowMs, this.lastFoldAt() + getConfig(this.env).LIVE_FOLD_INTERVAL_S * 1000));
    }
  }

  private async pullAlarmTo(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** A node this shard has not seen (new shard layout, lost storage): trust D1's registry. */
  private async seedFromD1(nodeId: string): Promise<LiveRecord | null> {
    const row = await this.db.$client
      .prepare('SELECT status, last_seen_at, online_ms FROM nodes WHERE id = ?')
      .bind(nodeId)
      .first<{ status: NodeStatus; last_seen_at: number; online_ms: number }>();
    if (!row) return null;
    const record = toRecord(row);
    this.writeRecord(nodeId, record, null, null, Dirty.Clean);
    return record;
  }
}

/** Levels of `live_nodes.dirty`: what a row still owes D1. */
const Dirty = { Clean: 0, Routine: 1, StatusChanged: 2 } as const;
type Dirty = (typeof Dirty)[keyof typeof Dirty];

function toRecord(row: { status: NodeStatus; last_seen_at: number; online_ms: number }): LiveRecord {
  return { status: row.status, lastSeenAt: row.last_seen_at, onlineMs: row.online_ms };
}
