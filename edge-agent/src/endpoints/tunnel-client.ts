// The agent's end of the endpoints tunnel: one signed WebSocket to GET /v1/nodes/{id}/tunnel
// (the node's NodeTunnel object at the edge), kept open with reconnects and backoff like the job
// stream. Over it the Worker sends the node's desired replicas (control messages) and requests
// for them (stream frames, protocol/tunnel.ts); each request becomes an HTTP request to the
// replica's port on 127.0.0.1 (tunnel-proxy.ts). The client is `ws`, for binary frames and the
// same code on every Node version.
import { WebSocket as WsWebSocket, type RawData } from 'ws';
import {
  FRAME,
  RESET_CODES,
  TUNNEL_LIMITS,
  decodeFrame,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  tunnelControlToAgentSchema,
  tunnelOpenSchema,
  tunnelPath,
  type Frame,
  type TunnelControlToAgent,
  type TunnelControlToWorker,
} from '../../../protocol/tunnel.ts';
import { backoffDelayMs } from '../backoff.ts';
import type { Identity } from '../identity.ts';
import type { Logger } from '../log.ts';
import { randomNonce, signatureHeaders } from '../signed-fetch.ts';
import { sleep as realSleep, type Sleep } from '../sleep.ts';
import { ReplicaStream, type StreamPeer } from './tunnel-proxy.ts';
import { ReplicaSocketStream } from './tunnel-websocket.ts';

/** One stream the agent serves: an HTTP request (tunnel-proxy.ts) or a WebSocket (tunnel-websocket.ts). */
type AgentStream = { onFrame(frame: Frame): void; abort(): void };

export interface TunnelOptions {
  identity: Identity;
  controlPlaneUrl: string;
  log: Logger;
  /** Aborting closes the tunnel (1000) and ends `done`. */
  signal: AbortSignal;
  /** Control messages from the Worker (`replicas`: the node's whole desired set, on every connect and change). */
  onControl(message: TunnelControlToAgent): void;
  /** The loopback port of a running replica, or null when this node runs no such replica. */
  portOf(replicaId: string): number | null;
  /** Each time the tunnel (re)opens. */
  onConnect?(): void;
  WebSocketImpl?: typeof WsWebSocket;
  now?: () => number;
  sleep?: Sleep;
  random?: () => number;
  /** Keepalive: a `ping` this often; a socket silent for three of these is dropped and reopened. */
  pingMs?: number;
}

export interface Tunnel {
  /**
   * Sends a control message now (true) or, while the tunnel is down, keeps the latest one per
   * replica and kind and sends it when the tunnel opens again (false).
   */
  send(message: TunnelControlToWorker): boolean;
  connected(): boolean;
  /** Resolves when the signal aborted and the socket closed. */
  done: Promise<void>;
}

/** Reconnect backoff: full jitter from 1 s, at most 30 s (the job stream's). */
const BACKOFF = { baseMs: 1000, capMs: 30_000 };
/** The largest message we accept: frames are at most 64 KiB; a desired set of 64 replicas stays well under this. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function runTunnel(options: TunnelOptions): Tunnel {
  const Impl = options.WebSocketImpl ?? WsWebSocket;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const held = new Map<string, TunnelControlToWorker>();
  let socket: WsWebSocket | null = null;

  const sendNow = (message: TunnelControlToWorker): boolean => {
    if (!socket || socket.readyState !== WsWebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  };

  const session = (ws: WsWebSocket): Promise<boolean> =>
    new Promise((resolve) => {
      let opened = false;
      let lastHeard = now();
      let ping: ReturnType<typeof setInterval> | undefined;
      const streams = new Map<number, AgentStream>();
      const peer: StreamPeer = {
        send: (frame) => {
          if (ws.readyState !== WsWebSocket.OPEN) return false;
          ws.send(frame);
          return true;
        },
        done: (id) => streams.delete(id),
      };
      const onAbort = () => ws.close(1000, 'agent stopping');
      options.signal.addEventListener('abort', onAbort, { once: true });

      ws.on('open', () => {
        opened = true;
        socket = ws;
        lastHeard = now();
        options.log.info('tunnel_open', "endpoints tunnel connected: requests for this node's replicas arrive over it");
        for (const message of held.values()) sendNow(message);
        held.clear();
        options.onConnect?.();
        const pingMs = options.pingMs ?? 20_000;
        ping = setInterval(() => {
          if (now() - lastHeard > 3 * pingMs) return ws.terminate();
          if (ws.readyState === WsWebSocket.OPEN) ws.send('ping');
        }, pingMs);
      });
      ws.on('message', (data: RawData, isBinary: boolean) => {
        lastHeard = now();
        const bytes = asBytes(data);
        if (isBinary) onFrame(ws, bytes, streams, peer);
        else onText(new TextDecoder().decode(bytes));
      });
      ws.on('error', (err) => options.log.warn('tunnel_error', `endpoints tunnel: ${err.message}`));
      ws.on('close', () => {
        clearInterval(ping);
        options.signal.removeEventListener('abort', onAbort);
        if (socket === ws) socket = null;
        // Requests in flight cannot be answered on another socket: the Worker fails them.
        for (const stream of [...streams.values()]) stream.abort();
        streams.clear();
        resolve(opened);
      });
    });

  const onFrame = (ws: WsWebSocket, bytes: Uint8Array, streams: Map<number, AgentStream>, peer: StreamPeer): void => {
    const frame = decodeFrame(bytes);
    if ('error' in frame) {
      options.log.warn('tunnel_protocol', `endpoints tunnel: ${frame.error}; reconnecting`);
      return ws.close(1002, frame.error.slice(0, 120));
    }
    if (frame.type === FRAME.open) return openStream(frame, streams, peer);
    // A frame for a stream that is over here (it crossed our END or RESET on the wire): nothing to do.
    streams.get(frame.streamId)?.onFrame(frame);
  };

  const openStream = (frame: Frame, streams: Map<number, AgentStream>, peer: StreamPeer): void => {
    const refuse = (code: string, message: string) => peer.send(encodeFrame(FRAME.reset, frame.streamId, jsonPayload({ code, message })));
    const open = parseJsonPayload(tunnelOpenSchema, frame.payload);
    if (!open) return void refuse(RESET_CODES.protocolError, 'a malformed open frame');
    const existing = streams.get(frame.streamId);
    if (existing) {
      existing.abort();
      return void refuse(RESET_CODES.protocolError, `stream ${frame.streamId} is already open`);
    }
    if (streams.size >= TUNNEL_LIMITS.maxStreams)
      return void refuse(RESET_CODES.protocolError, `over ${TUNNEL_LIMITS.maxStreams} streams at once`);
    const port = options.portOf(open.replicaId);
    if (port === null) return void refuse(RESET_CODES.replicaUnknown, `this node runs no replica ${open.replicaId}`);
    streams.set(
      frame.streamId,
      open.upgrade === 'websocket'
        ? new ReplicaSocketStream(frame.streamId, open, port, peer)
        : new ReplicaStream(frame.streamId, open, port, peer),
    );
  };

  const onText = (text: string): void => {
    if (text === 'pong') return;
    let parsed: ReturnType<typeof tunnelControlToAgentSchema.safeParse>;
    try {
      parsed = tunnelControlToAgentSchema.safeParse(JSON.parse(text));
    } catch {
      return options.log.warn('tunnel_control_invalid', 'endpoints tunnel: a control message that is not JSON');
    }
    // A message this agent does not know (a newer control plane) is skipped, not fatal.
    if (!parsed.success)
      return options.log.warn('tunnel_control_invalid', 'endpoints tunnel: a control message this agent does not understand');
    if (parsed.data.type === 'ping') return void sendNow({ type: 'pong', at: now() });
    try {
      options.onControl(parsed.data);
    } catch (err) {
      options.log.error(
        'tunnel_control_failed',
        `endpoints tunnel: handling ${parsed.data.type} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };

  const done = (async () => {
    const base = new URL(options.controlPlaneUrl);
    const prefix = base.pathname.replace(/\/+$/, '');
    let failures = 0;
    while (!options.signal.aborted) {
      const url = new URL(`${prefix}${tunnelPath(options.identity.nodeId)}`, base.origin);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const headers = await signatureHeaders(options.identity, {
        method: 'GET',
        pathWithQuery: url.pathname,
        body: new Uint8Array(),
        timestampMs: now(),
        nonce: randomNonce(),
      });
      const opened = await session(new Impl(url, { headers, maxPayload: MAX_MESSAGE_BYTES }));
      if (options.signal.aborted) break;
      failures = opened ? 0 : failures + 1;
      const delay = backoffDelayMs(failures, BACKOFF, options.random ?? Math.random);
      options.log.warn('tunnel_reconnect', `endpoints tunnel closed; reconnecting in ${(delay / 1000).toFixed(1)}s`);
      await sleep(delay, options.signal);
    }
  })();

  return {
    send: (message) => {
      if (sendNow(message)) return true;
      if (message.type !== 'pong') held.set(`${message.type}:${message.replicaId}`, message);
      return false;
    },
    connected: () => socket !== null && socket.readyState === WsWebSocket.OPEN,
    done,
  };
}

function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
