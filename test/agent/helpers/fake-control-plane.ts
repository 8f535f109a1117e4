// A node:http server that answers like the control plane's agent routes and records every
// request. It checks each signature itself, from the spec's six lines, with node:crypto.
import { createHash, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
  json: unknown;
  /** null when the request carried no signature headers. */
  signatureValid: boolean | null;
  at: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** Never answer (the test aborts the agent mid-request). */
  hang?: boolean;
}

export interface FakeControlPlaneOptions {
  nextHeartbeatS?: number;
  probes?: (baseUrl: string) => unknown[];
  /** Decide the answer to the n-th heartbeat (1-based); undefined means the normal 200. */
  onHeartbeat?: (n: number, req: RecordedRequest) => Reply | undefined;
  onRegister?: (n: number, req: RecordedRequest) => Reply | undefined;
  /** WebSocket upgrades (the job stream, the tunnel) go to the test's own `ws` server; refused without. */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

const SIGNED_HEADERS = ['x-gridplane-node', 'x-gridplane-timestamp', 'x-gridplane-nonce', 'x-gridplane-signature'];

export function expectedSigningString(method: string, url: string, timestamp: string, nonce: string, body: Buffer): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return `gridplane-v1\n${method.toUpperCase()}\n${url}\n${timestamp}\n${nonce}\n${bodyHash}`;
}

export class FakeControlPlane {
  readonly requests: RecordedRequest[] = [];
  readonly nodes = new Map<string, Record<string, unknown>>();
  publicKey: KeyObject | null = null;
  nextHeartbeatS: number;
  #server: Server;
  #port = 0;
  #heartbeats = 0;
  #registrations = 0;
  #hanging: ServerResponse[] = [];

  constructor(readonly options: FakeControlPlaneOptions = {}) {
    this.nextHeartbeatS = options.nextHeartbeatS ?? 7;
    this.#server = this.#create();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  heartbeats(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/heartbeat'));
  }

  registrations(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.url === '/v1/nodes');
  }

  /** Makes the control plane forget every node, as after a data reset. */
  forgetNodes(): void {
    this.nodes.clear();
  }

  async listen(port = this.#port): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops answering: closes the listener and every open connection. */
  async close(): Promise<void> {
    for (const res of this.#hanging.splice(0)) res.destroy();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    this.#server = this.#create();
  }

  /** Whether an upgrade request (a signed GET without a body) carries this node's valid signature. */
  upgradeSigned(req: IncomingMessage): boolean {
    return this.#verify(req, 'GET', req.url ?? '/', Buffer.alloc(0)) === true;
  }

  #create(): Server {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#handle(req, Buffer.concat(chunks), res));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.options.onUpgrade) this.options.onUpgrade(req, socket, head);
      else socket.destroy();
    });
    return server;
  }

  #handle(req: IncomingMessage, rawBody: Buffer, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    let json: unknown;
    try {
      json = rawBody.length > 0 ? JSON.parse(rawBody.toString('utf8')) : undefined;
    } catch {
      json = undefined;
    }
    const record: RecordedRequest = {
      method,
      url,
      headers: req.headers,
      rawBody,
      json,
      signatureValid: this.#verify(req, method, url, rawBody),
      at: Date.now(),
    };
    this.requests.push(record);
    const reply = (r: Reply) => {
      if (r.hang) {
        this.#hanging.push(res);
        return;
      }
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    };
    const error = (status: number, code: string, message: string) => reply({ status, body: { error: { code, message } } });

    if (method === 'HEAD' && url === '/probe') return reply({ status: 200 });
    if (record.signatureValid !== true) return error(401, 'bad_signature', 'The request signature does not verify.');
    const nodeId = String(req.headers['x-gridplane-node']);

    if (method === 'POST' && url === '/v1/nodes') {
      const n = ++this.#registrations;
      const custom = this.options.onRegister?.(n, record);
      if (custom) return reply(custom);
      const existed = this.nodes.has(nodeId);
      const node = { id: nodeId, ...(json as object), status: 'online', lastSeenAt: null };
      this.nodes.set(nodeId, node);
      return reply({ status: existed ? 200 : 201, body: node });
    }
    const hb = /^\/v1\/nodes\/([^/]+)\/heartbeat$/.exec(url);
    if (method === 'POST' && hb) {
      const n = ++this.#heartbeats;
      const custom = this.options.onHeartbeat?.(n, record);
      if (custom) return reply(custom);
      if (hb[1] !== nodeId) return error(403, 'forbidden', 'Signed by another node.');
      if (!this.nodes.has(nodeId)) return error(404, 'node_not_found', 'No node with this id is registered.');
      return reply({ status: 200, body: { nextHeartbeatS: this.nextHeartbeatS, jobs: [] } });
    }
    const get = /^\/v1\/nodes\/([^/]+)$/.exec(url);
    if (method === 'GET' && get) {
      const node = this.nodes.get(decodeURIComponent(get[1]!));
      return node ? reply({ status: 200, body: node }) : error(404, 'node_not_found', 'No node with this id is registered.');
    }
    if (method === 'GET' && url === '/v1/probes') return reply({ status: 200, body: this.options.probes?.(this.url) ?? [] });
    return error(404, 'not_found', 'No such route.');
  }

  #verify(req: IncomingMessage, method: string, url: string, body: Buffer): boolean | null {
    const [node, timestamp, nonce, signature] = SIGNED_HEADERS.map((h) => req.headers[h]);
    if (node === undefined && signature === undefined) return null;
    if (typeof timestamp !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string' || !this.publicKey) return false;
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return false;
    if (Math.abs(Date.now() - Number(timestamp)) > 300_000) return false;
    const message = Buffer.from(expectedSigningString(method, url, timestamp, nonce, body), 'utf8');
    return verify(null, message, this.publicKey, Buffer.from(signature, 'base64'));
  }
}
