// Over 300 lines: a Durable Object class is one file; frames, HTTP and WebSocket streams are already in tunnel-stream.ts, tunnel-http.ts and tunnel-websocket.ts, and what is left is the socket's lifecycle and the RPC surface.
import { DurableObject } from 'cloudflare:workers';
import * as z from 'zod';
import type { Env } from '../env.ts';
import { recordReplicaReceipt, recordReplicaState, recordTunnelDown } from '../endpoints/replica-reports.ts';
import { VERIFIED_NODE_HEADER } from '../jobs/shard-jobs.ts';
import {
  FRAME,
  TUNNEL_LIMITS,
  decodeFrame,
  jsonPayload,
  replicaSpecSchema,
  tunnelControlToWorkerSchema,
  tunnelOpenSchema,
  type ReplicaSpec,
  type TunnelControlToAgent,
} from '../../protocol/tunnel.ts';
import { ReplicaLoadTable, type ReplicaLoad } from './replica-load.ts';
import {
  TUNNEL_HEADERS,
  TUNNEL_TIMEOUTS,
  requestHeadersForReplica,
  timeoutFrom,
  tunnelErrorResponse,
  type TunnelFailure,
} from './tunnel-http.ts';
import { TunnelStream, type ProxiedStream, type StreamOutcome } from './tunnel-stream.ts';
import { TunnelWebSocketStream } from './tunnel-websocket.ts';

export type { ReplicaLoad } from './replica-load.ts';

export interface TunnelLoad {
  /** Whether the node's agent holds its tunnel open right now. */
  connected: boolean;
  /** Per replica of the desired set (and any that still has requests in flight). */
  replicas: Record<string, ReplicaLoad>;
}

/** What the object remembers of each socket across hibernation (WebSocket attachment). */
interface SocketAttachment {
  nodeId: string;
  connectedAt: number;
  /** The next stream id; every id below it was opened on this socket, none at or above it. */
  nextId: number;
}

interface TunnelSocket extends SocketAttachment {
  ws: WebSocket;
  streams: Map<number, ProxiedStream>;
}

/** Close codes the object uses (RFC 6455 §7.4 and the 4000-4999 private range). */
const CLOSE = { protocolError: 1002, invalidData: 1007, policy: 1008, replaced: 4001, silent: 4002 } as const;
const specsSchema = z.array(replicaSpecSchema).max(64);
/**
 * A replica that left the desired set still has its final receipt to come: the agent signs it
 * once the server has stopped (its cumulative ready time up to the stop), and holds it while the
 * tunnel is down. Receipts for it pass to the control plane this long after it left
 * (replica-reports.ts checks the signature and the node; tend.ts pays late receipts before the
 * hold is released). Without this every replica's last ready time since its previous periodic
 * receipt (up to 30 s, or all of it for one that ran less) went unpaid.
 */
const RETIRED_RECEIPTS_MS = 10 * 60_000;

/**
 * One per node (`idFromName(nodeId)`): the node's endpoints tunnel. The agent keeps one WebSocket
 * open here (a newer one replaces the older); the gateway sends requests for the node's replicas
 * through `fetch`, each a stream on that socket; the control plane sets the node's desired replicas
 * with `setReplicas` and reads per-replica load with `load`.
 */
export class NodeTunnel extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly loadTable: ReplicaLoadTable;
  private desired = new Map<string, ReplicaSpec>();
  private readonly sockets = new Map<WebSocket, TunnelSocket>();
  private current: TunnelSocket | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS desired_replicas (replica_id TEXT PRIMARY KEY, spec TEXT NOT NULL) WITHOUT ROWID');
    this.sql.exec('CREATE TABLE IF NOT EXISTS retired_replicas (replica_id TEXT PRIMARY KEY, until_ms INTEGER NOT NULL) WITHOUT ROWID');
    this.loadTable = new ReplicaLoadTable(this.sql);
    for (const row of this.sql.exec<{ replica_id: string; spec: string }>('SELECT replica_id, spec FROM desired_replicas')) {
      this.desired.set(row.replica_id, JSON.parse(row.spec) as ReplicaSpec);
    }
    // The agent's keepalive is answered without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    // Woken from hibernation: the sockets are still there, this instance's memory is new.
    for (const ws of ctx.getWebSockets()) this.adopt(ws);
  }

  /** The control plane's desired set for this node: stored, and sent to the agent now and on every (re)connect. */
  async setReplicas(specs: ReplicaSpec[]): Promise<{ ok: true; pushed: boolean } | { ok: false; error: string }> {
    const parsed = specsSchema.safeParse(specs);
    // An invalid set changes nothing (the agent would refuse it too); the caller gets why.
    if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error) };
    const valid = parsed.data;
    const nowMs = Date.now();
    const kept = new Set(valid.map((spec) => spec.replicaId));
    this.sql.exec('DELETE FROM retired_replicas WHERE until_ms < ?', nowMs);
    for (const id of this.desired.keys()) {
      if (!kept.has(id))
        this.sql.exec('INSERT OR REPLACE INTO retired_replicas (replica_id, until_ms) VALUES (?, ?)', id, nowMs + RETIRED_RECEIPTS_MS);
    }
    this.sql.exec('DELETE FROM desired_replicas');
    for (const spec of valid)
      this.sql.exec('INSERT INTO desired_replicas (replica_id, spec) VALUES (?, ?)', spec.replicaId, JSON.stringify(spec));
    this.desired = new Map(valid.map((spec) => [spec.replicaId, spec]));
    this.loadTable.keepOnly(new Set([...this.desired.keys(), ...this.inflight().keys()]));
    return { ok: true, pushed: this.current ? this.sendControl(this.current, this.replicasMessage()) : false };
  }

  private retiredLately(replicaId: string): boolean {
    return (
      this.sql.exec('SELECT 1 FROM retired_replicas WHERE replica_id = ? AND until_ms >= ?', replicaId, Date.now()).toArray().length > 0
    );
  }

  async load(): Promise<TunnelLoad> {
    const inflight = this.inflight();
    const replicas: Record<string, ReplicaLoad> = {};
    for (const id of new Set([...this.desired.keys(), ...inflight.keys()])) replicas[id] = this.loadTable.read(id, inflight.get(id) ?? 0);
    return { connected: this.current !== null, replicas };
  }

  /** The agent's upgrade (from the signed tunnel route) or a proxied request (from the gateway). */
  override async fetch(request: Request): Promise<Response> {
    // The gateway always names the replica, so a caller's request can never become an agent's socket.
    if (request.headers.has(TUNNEL_HEADERS.replica)) return this.proxy(request);
    return this.acceptAgent(request);
  }

  private acceptAgent(request: Request): Response {
    const nodeId = request.headers.get(VERIFIED_NODE_HEADER);
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket' || !nodeId) {
      return new Response('expected a verified WebSocket upgrade', { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [nodeId]);
    const attachment: SocketAttachment = { nodeId, connectedAt: Date.now(), nextId: 1 };
    server.serializeAttachment(attachment);
    const previous = this.current;
    this.current = { ...attachment, ws: server, streams: new Map() };
    this.sockets.set(server, this.current);
    // One socket per node: the older one's streams cannot be answered any more.
    if (previous) this.drop(previous, CLOSE.replaced, 'replaced by a newer tunnel', false);
    this.sendControl(this.current, this.replicasMessage());
    this.ctx.waitUntil(this.ensureAlarm());
    return new Response(null, { status: 101, webSocket: client });
  }

  private async proxy(request: Request): Promise<Response> {
    const replicaId = request.headers.get(TUNNEL_HEADERS.replica) ?? '';
    if (!this.desired.has(replicaId)) {
      return tunnelErrorResponse({ code: 'replica_unknown', message: `This node is not asked to run replica ${replicaId}.`, sent: false });
    }
    const socket = this.current;
    if (!socket) return tunnelErrorResponse({ code: 'tunnel_down', message: "The replica's node has no tunnel open.", sent: false });
    if (socket.streams.size >= TUNNEL_LIMITS.maxStreams) {
      return tunnelErrorResponse({
        code: 'tunnel_busy',
        message: `The node's tunnel carries ${TUNNEL_LIMITS.maxStreams} requests already.`,
        sent: false,
      });
    }
    const declared = Number(request.headers.get('content-length') ?? '0');
    if (declared > TUNNEL_LIMITS.maxRequestBody) {
      return tunnelErrorResponse({
        code: 'body_too_large',
        message: `The request body is over ${TUNNEL_LIMITS.maxRequestBody} bytes.`,
        sent: false,
      });
    }
    const url = new URL(request.url);
    // A caller's WebSocket (a notebook's kernel, a terminal): the agent opens one to the replica.
    const upgrade =
      request.headers.get('upgrade')?.toLowerCase() === 'websocket' && request.method === 'GET' ? ('websocket' as const) : undefined;
    const open = tunnelOpenSchema.safeParse({
      replicaId,
      method: request.method,
      path: url.pathname + url.search,
      headers: requestHeadersForReplica(request.headers),
      upgrade,
    });
    if (!open.success)
      return tunnelErrorResponse({ code: 'bad_request', message: 'The method or path cannot be carried to a replica.', sent: false });
    let payload: Uint8Array;
    try {
      payload = jsonPayload(open.data);
    } catch {
      return tunnelErrorResponse({
        code: 'headers_too_large',
        message: `The request line and headers are over ${TUNNEL_LIMITS.maxHeadBytes} bytes.`,
        sent: false,
      });
    }
    const id = socket.nextId++;
    socket.ws.serializeAttachment({
      nodeId: socket.nodeId,
      connectedAt: socket.connectedAt,
      nextId: socket.nextId,
    } satisfies SocketAttachment);
    const timeouts = {
      headMs: timeoutFrom(request.headers, TUNNEL_HEADERS.headTimeout, TUNNEL_TIMEOUTS.headMs),
      idleMs: timeoutFrom(request.headers, TUNNEL_HEADERS.idleTimeout, TUNNEL_TIMEOUTS.idleMs),
    };
    const host = {
      send: (frame: Uint8Array) => socket.ws.send(frame),
      finished: (s: ProxiedStream, outcome: StreamOutcome) => this.finished(socket, s, outcome),
    };
    if (upgrade) {
      const ws = new TunnelWebSocketStream(host, id, replicaId, timeouts.headMs);
      socket.streams.set(id, ws);
      this.loadTable.started(replicaId);
      ws.start(payload);
      return ws.response;
    }
    const stream = new TunnelStream(host, id, replicaId, request.method, timeouts);
    socket.streams.set(id, stream);
    this.loadTable.started(replicaId);
    stream.start(payload, request.body);
    return stream.response;
  }

  private finished(socket: TunnelSocket, stream: ProxiedStream, outcome: StreamOutcome): void {
    socket.streams.delete(stream.id);
    this.loadTable.ended(stream.replicaId, outcome);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const socket = this.sockets.get(ws) ?? this.adopt(ws);
    if (!socket || socket !== this.current) return;
    this.lastHeard = Date.now();
    if (typeof message === 'string') return this.onControl(socket, message);
    const frame = decodeFrame(new Uint8Array(message));
    if ('error' in frame) return this.drop(socket, CLOSE.protocolError, frame.error, true);
    if (frame.type === FRAME.open) return this.drop(socket, CLOSE.protocolError, 'an agent may not open streams', true);
    const stream = socket.streams.get(frame.streamId);
    if (stream) return stream.onFrame(frame);
    // A stream this socket never opened: the node answers for a request that is not its own.
    if (frame.streamId === 0 || frame.streamId >= socket.nextId) {
      return this.drop(socket, CLOSE.policy, `frame for stream ${frame.streamId}, never opened on this tunnel`, true);
    }
    // Else a frame that crossed our reset of that stream on the wire: nothing to do.
  }

  private async onControl(socket: TunnelSocket, text: string): Promise<void> {
    if (text === 'ping') return void this.sendText(socket, 'pong');
    let parsed: ReturnType<typeof tunnelControlToWorkerSchema.safeParse>;
    try {
      parsed = tunnelControlToWorkerSchema.safeParse(JSON.parse(text));
    } catch {
      return this.drop(socket, CLOSE.invalidData, 'a control message that is not JSON', true);
    }
    if (!parsed.success) return this.drop(socket, CLOSE.invalidData, 'a malformed control message', true);
    const msg = parsed.data;
    if (msg.type === 'pong') return;
    // Reports for replicas this node is not asked to run change nothing (a late state after a
    // stop, or a node reporting for someone else's replica) — except the final receipt of one it
    // ran until lately (RETIRED_RECEIPTS_MS).
    if (!this.desired.has(msg.replicaId) && !(msg.type === 'replica_receipt' && this.retiredLately(msg.replicaId))) return;
    try {
      if (msg.type === 'replica_state') await recordReplicaState(this.env, socket.nodeId, msg, Date.now());
      else await recordReplicaReceipt(this.env, socket.nodeId, msg, Date.now());
    } catch (err) {
      // A failed write loses one report, not the tunnel: states are sent again on change and receipts are cumulative.
      console.error(`tunnel: ${msg.type} of ${msg.replicaId} not recorded`, err);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    const socket = this.sockets.get(ws) ?? this.adopt(ws);
    if (socket) await this.drop(socket, code === 1005 || code === 1006 ? 1000 : code, 'closed by the agent', true);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    const socket = this.sockets.get(ws) ?? this.adopt(ws);
    if (socket) await this.drop(socket, 1011, 'socket error', true);
  }

  /** A silent socket (no ping for `silentSocketMs`: a half-open connection) counts as down. */
  override async alarm(): Promise<void> {
    const socket = this.current;
    if (!socket) return;
    const pinged = this.ctx.getWebSocketAutoResponseTimestamp(socket.ws)?.getTime() ?? 0;
    if (Date.now() - Math.max(pinged, socket.connectedAt, this.lastHeard) > TUNNEL_TIMEOUTS.silentSocketMs) {
      return this.drop(socket, CLOSE.silent, 'no ping from the agent', true);
    }
    await this.ctx.storage.setAlarm(Date.now() + TUNNEL_TIMEOUTS.silentSocketMs / 3);
  }

  private lastHeard = 0;

  /** Ends a socket: its streams fail, it closes, and if it was the node's tunnel, the tunnel is down. */
  private async drop(socket: TunnelSocket, code: number, reason: string, recordDown: boolean): Promise<void> {
    if (!this.sockets.delete(socket.ws)) return;
    const failure: TunnelFailure = { code: 'tunnel_down', message: `The node's tunnel closed (${reason}).`, sent: true };
    for (const stream of [...socket.streams.values()]) stream.socketGone(failure);
    try {
      socket.ws.close(code, reason.slice(0, 120));
    } catch {
      // already closed
    }
    if (this.current !== socket) return;
    this.current = null;
    if (!recordDown) return;
    try {
      await recordTunnelDown(this.env, socket.nodeId, Date.now());
    } catch (err) {
      console.error('tunnel: tunnel down not recorded', err);
    }
  }

  /** Rebuilds a socket's record after hibernation; the newest one is the node's tunnel. */
  private adopt(ws: WebSocket): TunnelSocket | null {
    const attachment = ws.deserializeAttachment() as SocketAttachment | null;
    if (!attachment || ws.readyState !== WebSocket.READY_STATE_OPEN) return null;
    const socket: TunnelSocket = { ...attachment, ws, streams: new Map() };
    this.sockets.set(ws, socket);
    if (!this.current || this.current.connectedAt <= socket.connectedAt) this.current = socket;
    return socket;
  }

  private inflight(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const socket of this.sockets.values()) {
      for (const stream of socket.streams.values()) counts.set(stream.replicaId, (counts.get(stream.replicaId) ?? 0) + 1);
    }
    return counts;
  }

  private replicasMessage(): TunnelControlToAgent {
    return { type: 'replicas', replicas: [...this.desired.values()] };
  }

  private sendControl(socket: TunnelSocket, message: TunnelControlToAgent): boolean {
    return this.sendText(socket, JSON.stringify(message));
  }

  private sendText(socket: TunnelSocket, text: string): boolean {
    try {
      socket.ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + TUNNEL_TIMEOUTS.silentSocketMs / 3);
  }
}
