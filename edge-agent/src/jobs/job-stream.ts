// The agent's end of the job stream: a signed WebSocket to GET /v1/nodes/{id}/stream, where the
// node's shard pushes job offers and stops the moment they happen. Reconnects with backoff.
// The client is `ws` (bundled into the published agent): Node 20 has no global WebSocket, and
// one client on every Node version means the stream the tests exercise is the one operators run.
import { WebSocket as WsWebSocket } from 'ws';
import { StreamMessageSchema } from '../../../protocol/job-offer.ts';
import { backoffDelayMs } from '../backoff.ts';
import type { Identity } from '../identity.ts';
import type { Logger } from '../log.ts';
import { randomNonce, signatureHeaders } from '../signed-fetch.ts';
import { sleep as realSleep, type Sleep } from '../sleep.ts';

export interface JobStreamHandlers {
  onJob(job: unknown): void;
  onStop(jobId: string, reason: string): void;
}

export interface JobStreamOptions extends JobStreamHandlers {
  identity: Identity;
  controlPlaneUrl: string;
  /** The stream's path, as the heartbeat answer named it. */
  path: string;
  log: Logger;
  signal: AbortSignal;
  now?: () => number;
  sleep?: Sleep;
  /** For tests: another WebSocket implementation (one that takes `{ headers }`), or null for none. */
  WebSocketImpl?: typeof WebSocket | null;
  pingMs?: number;
}

type UndiciWebSocketCtor = new (url: string, init: { headers: Record<string, string> }) => WebSocket;

/** Runs until the signal aborts. Returns false at once when no WebSocket is available. */
export async function runJobStream(options: JobStreamOptions): Promise<boolean> {
  const Impl = options.WebSocketImpl === undefined ? (WsWebSocket as unknown as typeof WebSocket) : options.WebSocketImpl;
  if (!Impl) {
    options.log.warn('stream_unavailable', 'no WebSocket client: jobs arrive with heartbeat answers instead of at once');
    return false;
  }
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const base = new URL(options.controlPlaneUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  let failures = 0;
  while (!options.signal.aborted) {
    const path = `${prefix}${options.path}`;
    const url = new URL(path, base.origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers = await signatureHeaders(options.identity, {
      method: 'GET',
      pathWithQuery: url.pathname,
      body: new Uint8Array(),
      timestampMs: now(),
      nonce: randomNonce(),
    });
    const opened = await connectOnce(new (Impl as unknown as UndiciWebSocketCtor)(url.toString(), { headers }), options);
    if (options.signal.aborted) break;
    failures = opened ? 0 : failures + 1;
    const delay = backoffDelayMs(failures, { baseMs: 1000, capMs: 30_000 }, Math.random);
    options.log.warn('stream_reconnect', `job stream closed; reconnecting in ${(delay / 1000).toFixed(1)}s`);
    await sleep(delay, options.signal);
  }
  return true;
}

/** Resolves when the socket closes; true if it was open at some point. */
function connectOnce(ws: WebSocket, options: JobStreamOptions): Promise<boolean> {
  return new Promise((resolve) => {
    let opened = false;
    let ping: ReturnType<typeof setInterval> | undefined;
    const onAbort = () => ws.close(1000, 'agent stopping');
    options.signal.addEventListener('abort', onAbort, { once: true });
    ws.addEventListener('open', () => {
      opened = true;
      options.log.info('stream_open', 'job stream connected: offers arrive at once');
      ping = setInterval(() => {
        try {
          ws.send('ping');
        } catch {
          // closing
        }
      }, options.pingMs ?? 20_000);
    });
    ws.addEventListener('message', (event) => {
      if (typeof event.data !== 'string' || event.data === 'pong') return;
      let raw: unknown;
      try {
        raw = JSON.parse(event.data);
      } catch {
        return;
      }
      // The stream's messages as the protocol declares them; anything else is ignored.
      const parsed = StreamMessageSchema.safeParse(raw);
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.type === 'job') options.onJob(message.job);
      else if (message.type === 'stop') options.onStop(message.jobId, message.reason);
    });
    const done = () => {
      clearInterval(ping);
      options.signal.removeEventListener('abort', onAbort);
      resolve(opened);
    };
    ws.addEventListener('close', done);
    ws.addEventListener('error', () => {
      // `close` follows `error`; nothing else to do here.
    });
  });
}
