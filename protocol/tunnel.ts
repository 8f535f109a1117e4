// The endpoints tunnel: one WebSocket the agent opens to its node's tunnel object at the edge
// (GET /v1/nodes/{id}/tunnel, signed like every agent request), over which the Worker sends HTTP
// requests for the node's replicas and receives streamed responses. Many requests share one
// socket, each a numbered stream; both directions are flow-controlled per stream.
//
// Binary messages are stream frames: byte 0 the frame type, bytes 1-4 the stream id (u32, big
// endian), the rest the payload. Text messages are control messages (JSON, `tunnelControl*` below).
// Stream ids are chosen by the Worker; an agent may only answer streams the Worker opened on its
// own socket, so it cannot answer for a request that is not its own.
import * as z from 'zod';

export const FRAME = {
  /** Worker → agent: a request for a replica. Payload: JSON `TunnelOpen`. */
  open: 1,
  /** Agent → Worker: the response's status and headers. Payload: JSON `TunnelHead`. */
  head: 2,
  /** Either way: body bytes (request body to the agent, response body to the Worker). */
  data: 3,
  /** Either way: the sender's body is complete. No payload. */
  end: 4,
  /** Either way: abandon the stream (caller gone, replica failed, limit hit). Payload: JSON `TunnelReset`. */
  reset: 5,
  /** Either way: the receiver consumed bytes; the sender may send this many more. Payload: u32. */
  window: 6,
  /** Either way, on a WebSocket stream after its HEAD 101: a piece of one message. Payload: flags byte + bytes (protocol/tunnel-ws.ts). */
  message: 7,
} as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export const TUNNEL_LIMITS = {
  /** Largest payload of one frame: bodies are cut into pieces at most this size. */
  maxFramePayload: 64 * 1024,
  /** Bytes a sender may have unacknowledged per stream and direction before it waits for `window`. */
  initialWindow: 1024 * 1024,
  /** Streams open at once on one tunnel; more get 503 at the edge. */
  maxStreams: 256,
  /** Largest JSON payload of an `open` or `head` frame (method, path and headers). */
  maxHeadBytes: 32 * 1024,
  /**
   * Largest request body the edge carries to a replica (32 MiB): room for a prompt with a few
   * base64 images or an audio clip, far below what would let one caller fill a tunnel object's
   * memory. Bigger bodies get 413 at the edge; the agent enforces it too.
   */
  maxRequestBody: 32 * 1024 * 1024,
} as const;

/** Where the agent opens its tunnel (signed GET with Upgrade: websocket). */
export function tunnelPath(nodeId: string): string {
  return `/v1/nodes/${nodeId}/tunnel`;
}

/**
 * Reset codes either side sends (`TunnelReset.code`). Unknown codes are still accepted (a newer
 * peer may add some); these are the ones both sides act on.
 */
export const RESET_CODES = {
  /** Worker → agent: the caller went away; stop the request to the replica. */
  callerGone: 'caller_gone',
  /** Either way: the request body is over `maxRequestBody`. */
  bodyTooLarge: 'body_too_large',
  /** Worker → agent: no response head or no chunk within the named timeout. */
  upstreamTimeout: 'upstream_timeout',
  /** Agent → Worker: this node runs no replica with that id (nothing reached a replica). */
  replicaUnknown: 'replica_unknown',
  /** Agent → Worker: the replica's port refused the connection (nothing reached the replica). */
  replicaUnreachable: 'replica_unreachable',
  /** Agent → Worker: the replica failed after the request reached it (connection reset, bad response). */
  replicaFailed: 'replica_failed',
  /** Either way: the peer broke the frame rules for this stream (window overrun, frame out of order). */
  protocolError: 'protocol_error',
  /** Worker → agent: a newer tunnel of the node replaced this one. */
  tunnelReplaced: 'tunnel_replaced',
} as const;

/** Agent reset codes that say the request never reached a replica, so any method may be retried elsewhere. */
export const RESET_BEFORE_REPLICA: ReadonlySet<string> = new Set([RESET_CODES.replicaUnknown, RESET_CODES.replicaUnreachable]);

const HEADER_LIST = z.array(z.tuple([z.string().min(1).max(256), z.string().max(8192)])).max(128);

export const tunnelOpenSchema = z.object({
  replicaId: z.string().min(1).max(64),
  method: z.string().regex(/^[A-Z]{1,16}$/),
  /** Path and query as the caller sent them after the endpoint prefix, always starting with `/`. */
  path: z.string().startsWith('/').max(8192),
  headers: HEADER_LIST,
  /**
   * `websocket`: the caller asked to upgrade; the agent opens a WebSocket to the replica and the
   * stream carries MESSAGE frames after HEAD 101 (protocol/tunnel-ws.ts). Absent: plain HTTP.
   */
  upgrade: z.literal('websocket').optional(),
});
export type TunnelOpen = z.infer<typeof tunnelOpenSchema>;

export const tunnelHeadSchema = z.object({
  status: z.number().int().min(100).max(599),
  headers: HEADER_LIST,
});
export type TunnelHead = z.infer<typeof tunnelHeadSchema>;

export const tunnelResetSchema = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(512),
  /** On a WebSocket stream: the close code and reason the other side's socket is closed with. */
  wsCode: z.number().int().min(1000).max(4999).optional(),
  wsReason: z.string().max(123).optional(),
});
export type TunnelReset = z.infer<typeof tunnelResetSchema>;

export interface Frame {
  type: FrameType;
  streamId: number;
  payload: Uint8Array;
}

const FRAME_TYPES = new Set<number>(Object.values(FRAME));
const HEADER_BYTES = 5;

export function encodeFrame(type: FrameType, streamId: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff_ffff) throw new RangeError(`stream id out of range: ${streamId}`);
  if (payload.byteLength > TUNNEL_LIMITS.maxFramePayload) throw new RangeError(`frame payload over ${TUNNEL_LIMITS.maxFramePayload} bytes`);
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, streamId);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** A frame from the wire, or a reason it is not one (the receiver closes the tunnel: a peer that sends garbage is broken or hostile). */
export function decodeFrame(bytes: Uint8Array): Frame | { error: string } {
  if (bytes.byteLength < HEADER_BYTES) return { error: 'frame shorter than its header' };
  if (bytes.byteLength > HEADER_BYTES + TUNNEL_LIMITS.maxFramePayload) return { error: 'frame payload over the limit' };
  const type = bytes[0]!;
  if (!FRAME_TYPES.has(type)) return { error: `unknown frame type ${type}` };
  const streamId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  return { type: type as FrameType, streamId, payload: bytes.subarray(HEADER_BYTES) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function jsonPayload(value: unknown): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value));
  if (bytes.byteLength > TUNNEL_LIMITS.maxHeadBytes) throw new RangeError(`JSON frame over ${TUNNEL_LIMITS.maxHeadBytes} bytes`);
  return bytes;
}

/** Parses a JSON payload with its schema; null when it is not valid (the stream is reset). */
export function parseJsonPayload<T>(schema: z.ZodType<T>, payload: Uint8Array): T | null {
  if (payload.byteLength > TUNNEL_LIMITS.maxHeadBytes) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(decoder.decode(payload)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function windowPayload(bytes: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, bytes);
  return out;
}

export function readWindow(payload: Uint8Array): number | null {
  if (payload.byteLength !== 4) return null;
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/**
 * Hop-by-hop headers never cross the tunnel (RFC 9110 §7.6.1), nor does anything that would let a
 * caller speak for the edge: the agent's replica sees the caller's request, not our credentials.
 */
export const STRIPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
  'authorization',
  'x-gridplane-key',
  // A WebSocket's handshake is per hop: the edge ends the caller's, the agent makes its own to the replica.
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
]);
export const STRIPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'sec-websocket-accept',
  'sec-websocket-extensions',
]);

// ---- Control messages (text frames, JSON) ----

/** What one replica runs: sent by the Worker, the agent's job spec rules apply (protocol/job-rules.ts). */
export const replicaSpecSchema = z.object({
  replicaId: z.string().min(1).max(64),
  endpointId: z.string().min(1).max(64),
  image: z.string().min(1).max(512),
  command: z.array(z.string().max(4096)).max(64),
  env: z.record(z.string(), z.string()),
  /** The port the server listens on inside the replica; the agent binds it to loopback only. */
  port: z.number().int().min(1).max(65535),
  /** GET this path until it answers 2xx before the replica counts as ready. */
  healthPath: z.string().startsWith('/').max(512),
  gpus: z.object({ count: z.number().int().min(1).max(16), model: z.string().max(64).nullable() }),
});
export type ReplicaSpec = z.infer<typeof replicaSpecSchema>;

export const REPLICA_STATES = ['starting', 'ready', 'unhealthy', 'stopped', 'failed'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

/** Worker → agent. `replicas`: the whole desired set for this node; the agent starts what is missing and stops the rest. */
export const tunnelControlToAgentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('replicas'), replicas: z.array(replicaSpecSchema).max(64) }),
  z.object({ type: z.literal('ping'), at: z.number().int() }),
]);
export type TunnelControlToAgent = z.infer<typeof tunnelControlToAgentSchema>;

/** Agent → Worker. */
export const tunnelControlToWorkerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('replica_state'),
    replicaId: z.string().min(1).max(64),
    state: z.enum(REPLICA_STATES),
    reason: z.string().max(512).optional(),
    /** Agent clock, milliseconds; the Worker judges time on its own clock. */
    at: z.number().int(),
  }),
  z.object({
    type: z.literal('replica_receipt'),
    replicaId: z.string().min(1).max(64),
    /** Milliseconds this replica has been ready in total, by the agent's count (never decreases). */
    readyMs: z.number().int().min(0),
    at: z.number().int(),
    /** ed25519 by the node's key over `replicaReceiptMessage(...)`, base64. */
    signature: z.string().min(1).max(200),
  }),
  z.object({ type: z.literal('pong'), at: z.number().int() }),
]);
export type TunnelControlToWorker = z.infer<typeof tunnelControlToWorkerSchema>;

/**
 * What a replica receipt signs: the agent's own count of ready time, so that what a renter is
 * billed for a replica never exceeds what its node signed for (as a job's bill never exceeds the
 * agent's signed receipt). Lines, not JSON, so both sides build the same bytes.
 */
export function replicaReceiptMessage(nodeId: string, replicaId: string, readyMs: number, at: number): string {
  return `gridplane-replica-receipt/v1\n${nodeId}\n${replicaId}\n${readyMs}\n${at}`;
}
