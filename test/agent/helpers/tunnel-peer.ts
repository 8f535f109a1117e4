// The Worker's end of the endpoints tunnel, as a loopback `ws` server speaking protocol/tunnel.ts:
// it checks the upgrade's signature like the control plane (shared protocol module), then lets a
// test open streams and answer frames by hand. It is the protocol's peer, not a copy of the
// Worker's code, so the agent is tested against the wire format itself.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodePublicKey } from '../../../protocol/base58.ts';
import { AGENT_HEADERS, base64ToBytes, signingString } from '../../../protocol/signed-request.ts';
import {
  FRAME,
  decodeFrame,
  encodeFrame,
  jsonPayload,
  parseJsonPayload,
  readWindow,
  tunnelHeadSchema,
  tunnelPath,
  tunnelResetSchema,
  windowPayload,
  type Frame,
  type TunnelHead,
  type TunnelOpen,
  type TunnelReset,
} from '../../../protocol/tunnel.ts';

export class TunnelPeerServer {
  readonly server: WebSocketServer;
  /** The upgrade's signature verdicts, in order. */
  readonly verdicts: boolean[] = [];
  readonly sockets: WebSocket[] = [];
  readonly frames: Frame[] = [];
  readonly texts: string[] = [];
  private nextId = 1;
  private listeners: (() => void)[] = [];

  private constructor(nodeId: string) {
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: async ({ req }, done) => {
        const h = (name: string) => String(req.headers[name.toLowerCase()] ?? '');
        const message = signingString({
          method: 'GET',
          pathWithQuery: req.url ?? '',
          timestampMs: Number(h(AGENT_HEADERS.timestamp)),
          nonce: h(AGENT_HEADERS.nonce),
          bodySha256Hex: createHash('sha256').update('').digest('hex'),
        });
        const key = await crypto.subtle.importKey('raw', decodePublicKey(h(AGENT_HEADERS.node))!, { name: 'Ed25519' }, false, ['verify']);
        const ok = await crypto.subtle.verify(
          'Ed25519',
          key,
          base64ToBytes(h(AGENT_HEADERS.signature))!,
          new TextEncoder().encode(message),
        );
        const verdict = ok && h(AGENT_HEADERS.node) === nodeId && req.url === tunnelPath(nodeId);
        this.verdicts.push(verdict);
        done(verdict, 401);
      },
    });
    this.server.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data, isBinary) => {
        const bytes = new Uint8Array(data as Buffer);
        if (!isBinary) this.texts.push(new TextDecoder().decode(bytes));
        else {
          const frame = decodeFrame(bytes);
          if ('error' in frame) throw new Error(`the agent sent a bad frame: ${frame.error}`);
          this.frames.push({ ...frame, payload: frame.payload.slice() });
        }
        this.notify();
      });
      socket.on('close', () => this.notify());
      this.notify();
    });
  }

  static async start(nodeId: string): Promise<TunnelPeerServer> {
    const peer = new TunnelPeerServer(nodeId);
    await new Promise<void>((r) => peer.server.once('listening', () => r()));
    return peer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The socket the agent holds now (the latest one). */
  get socket(): WebSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no tunnel socket yet');
    return socket;
  }

  async until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
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

  connected(n = 1): Promise<WebSocket> {
    return this.until(
      () => this.sockets.length >= n && this.sockets[n - 1]!.readyState === 1 && this.sockets[n - 1]!,
      `tunnel connection #${n}`,
    );
  }

  /** Opens a stream (OPEN, then the body in DATA frames within `window`, then END unless `keepOpen`). */
  open(request: Omit<TunnelOpen, 'headers'> & { headers?: [string, string][] }, body?: Uint8Array, keepOpen = false): number {
    const id = this.nextId++;
    this.socket.send(encodeFrame(FRAME.open, id, jsonPayload({ headers: [], ...request })));
    if (body) this.data(id, body);
    if (!keepOpen) this.end(id);
    return id;
  }

  data(id: number, body: Uint8Array): void {
    for (let at = 0; at < body.byteLength; at += 64 * 1024)
      this.socket.send(encodeFrame(FRAME.data, id, body.subarray(at, at + 64 * 1024)));
  }

  end(id: number): void {
    this.socket.send(encodeFrame(FRAME.end, id));
  }

  reset(id: number, code: string, message = ''): void {
    this.socket.send(encodeFrame(FRAME.reset, id, jsonPayload({ code, message })));
  }

  window(id: number, bytes: number): void {
    this.socket.send(encodeFrame(FRAME.window, id, windowPayload(bytes)));
  }

  framesOf(type: number, id: number): Frame[] {
    return this.frames.filter((f) => f.type === type && f.streamId === id);
  }

  async head(id: number): Promise<TunnelHead> {
    const frame = await this.until(() => this.framesOf(FRAME.head, id)[0], `HEAD of stream ${id}`);
    return parseJsonPayload(tunnelHeadSchema, frame.payload)!;
  }

  async resetOf(id: number): Promise<TunnelReset> {
    const frame = await this.until(() => this.framesOf(FRAME.reset, id)[0], `RESET of stream ${id}`);
    return parseJsonPayload(tunnelResetSchema, frame.payload)!;
  }

  /** Response bytes received on a stream so far. */
  received(id: number): number {
    return this.framesOf(FRAME.data, id).reduce((n, f) => n + f.payload.byteLength, 0);
  }

  granted(id: number): number {
    return this.framesOf(FRAME.window, id).reduce((n, f) => n + (readWindow(f.payload) ?? 0), 0);
  }

  /** The whole response body once END came. */
  async body(id: number): Promise<string> {
    await this.until(() => this.framesOf(FRAME.end, id)[0], `END of stream ${id}`);
    return Buffer.concat(this.framesOf(FRAME.data, id).map((f) => f.payload)).toString();
  }

  async close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
