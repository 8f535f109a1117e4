import { env, exports } from 'cloudflare:workers';
import {
  FRAME,
  decodeFrame,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  tunnelOpenSchema,
  tunnelResetSchema,
  windowPayload,
  type Frame,
  type ReplicaSpec,
  type TunnelOpen,
  type TunnelReset,
} from '../../../protocol/tunnel.ts';
import { expect } from 'vitest';
import { endpointsContext } from '../../../workers/endpoints/endpoints-context.ts';
import { endpointCreateSchema } from '../../../workers/endpoints/endpoint-input.schema.ts';
import { createEndpoint } from '../../../workers/endpoints/endpoints.service.ts';
import { wakeEndpoint } from '../../../workers/endpoints/wake.ts';
import { tunnelFor } from '../../../workers/tunnel/tunnel-stub.ts';
import { newAgent, signedRequest, type TestAgent } from './agent.ts';
import { newRenter, nodeAt } from './jobs.ts';

// The test plays the agent's end of the endpoints tunnel: it opens the signed WebSocket through
// the real route and speaks protocol/tunnel.ts's frames itself, so each test scripts what the
// node answers. Requests enter the node's real NodeTunnel object the way the gateway sends them.

export class TunnelPeer {
  readonly frames: Frame[] = [];
  readonly texts: string[] = [];
  closed: { code: number; reason: string } | null = null;
  // Indexes, so a test that moves megabytes does not rescan every frame on every event.
  private readonly byStream = new Map<string, Frame[]>();
  private readonly byType = new Map<number, Frame[]>();
  private readonly dataBytes = new Map<number, number>();
  /** Streams whose request body this peer acknowledges as it arrives. */
  readonly autoGrant = new Set<number>();
  private readonly untaken = new Map<number, number>();
  private listeners: (() => void)[] = [];

  constructor(
    readonly agent: TestAgent,
    readonly ws: WebSocket,
  ) {
    ws.addEventListener('message', (event) => {
      if (typeof event.data === 'string') this.texts.push(event.data);
      else {
        const frame = decodeFrame(new Uint8Array(event.data as ArrayBuffer));
        if ('error' in frame) throw new Error(`the tunnel object sent a bad frame: ${frame.error}`);
        const copy = { ...frame, payload: frame.payload.slice() };
        this.frames.push(copy);
        const key = `${frame.type}:${frame.streamId}`;
        if (!this.byStream.has(key)) this.byStream.set(key, []);
        this.byStream.get(key)!.push(copy);
        if (!this.byType.has(frame.type)) this.byType.set(frame.type, []);
        this.byType.get(frame.type)!.push(copy);
        if (frame.type === FRAME.data)
          this.dataBytes.set(frame.streamId, (this.dataBytes.get(frame.streamId) ?? 0) + frame.payload.byteLength);
        // As a replica reading the body would: every byte taken gives the window back.
        if (frame.type === FRAME.data && this.autoGrant.has(frame.streamId)) this.take(frame.streamId, frame.payload.byteLength);
      }
      this.notify();
    });
    ws.addEventListener('close', (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.notify();
    });
    ws.accept();
    // Binary messages as ArrayBuffer, as the agent's `ws` client gets them (the standard default is Blob).
    ws.binaryType = 'arraybuffer';
  }

  /** Resolves with the first value `probe` returns (checked now and after every event), or fails after `timeoutMs`. */
  async until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 5_000): Promise<T> {
    const now = probe();
    if (now) return now;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        const value = probe();
        if (!value) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(value);
      };
      this.listeners.push(check);
    });
  }

  /** The n-th OPEN (0-based) this peer received, parsed. */
  async open(n = 0): Promise<{ id: number; open: TunnelOpen }> {
    const frame = await this.until(() => this.framesOf(FRAME.open)[n], `OPEN #${n}`);
    const open = parseJsonPayload(tunnelOpenSchema, frame.payload);
    if (!open) throw new Error('malformed OPEN');
    return { id: frame.streamId, open };
  }

  framesOf(type: number, streamId?: number): Frame[] {
    return (streamId === undefined ? this.byType.get(type) : this.byStream.get(`${type}:${streamId}`)) ?? [];
  }

  /** Request body bytes received on a stream so far. */
  received(streamId: number): number {
    return this.dataBytes.get(streamId) ?? 0;
  }

  /** The request body of a stream once its END came. */
  async body(streamId: number): Promise<string> {
    await this.until(() => this.framesOf(FRAME.end, streamId)[0], `END of stream ${streamId}`);
    return new TextDecoder().decode(concat(this.framesOf(FRAME.data, streamId).map((f) => f.payload)));
  }

  async reset(streamId: number, timeoutMs?: number): Promise<TunnelReset> {
    const frame = await this.until(() => this.framesOf(FRAME.reset, streamId)[0], `RESET of stream ${streamId}`, timeoutMs);
    return parseJsonPayload(tunnelResetSchema, frame.payload)!;
  }

  granted(streamId: number): number {
    return this.framesOf(FRAME.window, streamId).reduce((sum, f) => sum + (readWindow(f.payload) ?? 0), 0);
  }

  head(streamId: number, status: number, headers: [string, string][] = []): void {
    this.ws.send(encodeFrame(FRAME.head, streamId, jsonPayload({ status, headers })));
  }

  data(streamId: number, chunk: string | Uint8Array): void {
    this.ws.send(encodeFrame(FRAME.data, streamId, typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk));
  }

  end(streamId: number): void {
    this.ws.send(encodeFrame(FRAME.end, streamId));
  }

  sendReset(streamId: number, code: string, message = ''): void {
    this.ws.send(encodeFrame(FRAME.reset, streamId, jsonPayload({ code, message })));
  }

  window(streamId: number, bytes: number): void {
    this.ws.send(encodeFrame(FRAME.window, streamId, windowPayload(bytes)));
  }

  /** Acknowledges body bytes in 256 KiB grants (under the 1 MiB window, so the sender never stalls on the rest). */
  take(streamId: number, bytes: number): void {
    const owed = (this.untaken.get(streamId) ?? 0) + bytes;
    if (owed < 256 * 1024) return void this.untaken.set(streamId, owed);
    this.window(streamId, owed);
    this.untaken.set(streamId, 0);
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed, 'the socket to close');
  }

  /** Re-checks what `until` waits for (for events the peer does not see itself, like a caller's socket). */
  poke(): void {
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Opens the node's tunnel through GET /v1/nodes/:id/tunnel, signed like the agent does. */
export async function connectTunnel(agent?: TestAgent): Promise<TunnelPeer> {
  const node = agent ?? (await newAgent());
  const request = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/tunnel`);
  request.headers.set('Upgrade', 'websocket');
  const res = await exports.default.fetch(request);
  if (res.status !== 101 || !res.webSocket) throw new Error(`tunnel upgrade failed: ${res.status} ${await res.text()}`);
  return new TunnelPeer(node, res.webSocket);
}

export function spec(replicaId: string, overrides: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    replicaId,
    endpointId: 'ep_test',
    image: 'ghcr.io/example/server:1',
    command: [],
    env: {},
    port: 8000,
    healthPath: '/health',
    gpus: { count: 1, model: null },
    ...overrides,
  };
}

/** A request as the gateway sends it to the node's tunnel object. */
export function viaTunnel(nodeId: string, replicaId: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('gridplane-replica', replicaId);
  return tunnelFor(env, nodeId).fetch(new Request(`http://tunnel${path}`, { ...init, headers }));
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A node at (lat, lon) with one RTX 4090 and one replica the control plane placed on it (the tunnel not yet open). */
export async function placeReplica(lat: number, lon: number, country: string): Promise<{ node: TestAgent; replicaId: string }> {
  const node = await nodeAt(lat, lon, country, { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }] });
  const renter = await newRenter('100.000000');
  const request = endpointCreateSchema.parse({
    name: 'llm',
    image: 'python:3.12-slim',
    port: 8000,
    gpu: { model: 'RTX 4090', count: 1 },
    maxPricePerGpuHour: '2.0',
    replicas: { min: 0, max: 1 },
  });
  const { endpoint } = await createEndpoint(
    endpointsContext(env),
    { accountId: renter.accountId, request, regions: [{ lat, lon }], maxPrice: 2_000_000n, idempotencyKey: null },
    Date.now(),
  );
  const woke = await wakeEndpoint(env, endpoint.id, Date.now());
  expect(woke.placed).toHaveLength(1);
  return { node, replicaId: woke.placed[0]! };
}
