// The agent's WebSocket streams (protocol/tunnel-ws.ts) against the protocol's peer (a loopback
// `ws` server speaking protocol/tunnel.ts, helpers/tunnel-peer.ts) and a real `ws` server on
// loopback as the replica: the upgrade, messages both ways with their boundaries and kinds, close
// codes both ways, a refused upgrade, and the replica held back by the Worker's window.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { FRAME, TUNNEL_LIMITS, encodeFrame } from '../../protocol/tunnel.ts';
import { MessageAssembler, WS_CLOSED, messagePayloads, type WsMessage } from '../../protocol/tunnel-ws.ts';
import { identityFromPkcs8 } from '../../edge-agent/src/identity.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import { runTunnel } from '../../edge-agent/src/endpoints/tunnel-client.ts';
import { TunnelPeerServer } from './helpers/tunnel-peer.ts';
import { waitFor } from './helpers/wait.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The replica: a real WebSocket server on loopback; `sockets` are the connections it accepted. */
async function replica(options: { refuse?: boolean } = {}) {
  const sockets: WebSocket[] = [];
  const received: { data: string | Buffer; binary: boolean }[] = [];
  const closes: { code: number; reason: string }[] = [];
  const seen: { url: string; protocol: string; cookie: string | undefined; acceptLanguage: string | undefined }[] = [];
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: options.refuse ? (_info, done) => done(false, 403, 'this needs its token') : undefined,
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });
  server.on('connection', (socket, req) => {
    sockets.push(socket);
    seen.push({
      url: req.url ?? '',
      protocol: socket.protocol,
      cookie: req.headers.cookie,
      acceptLanguage: req.headers['accept-language'],
    });
    socket.on('message', (data, binary) => received.push({ data: binary ? Buffer.from(data as Buffer) : String(data), binary }));
    socket.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
  });
  await new Promise<void>((r) => server.once('listening', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of server.clients) s.terminate();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, sockets, received, closes, seen };
}

async function setup(port: number) {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const identity = await identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
  const peer = await TunnelPeerServer.start(identity.nodeId);
  const controller = new AbortController();
  const tunnel = runTunnel({
    identity,
    controlPlaneUrl: peer.url,
    log: createMemoryLogger(),
    signal: controller.signal,
    onControl: () => {},
    portOf: (id) => (id === 'rep_ws' ? port : null),
    sleep: async () => {},
  });
  cleanups.push(async () => {
    controller.abort();
    await tunnel.done;
    await peer.close();
  });
  await peer.connected();
  return peer;
}

function messagesOn(peer: TunnelPeerServer, id: number): WsMessage[] {
  const assembler = new MessageAssembler();
  const out: WsMessage[] = [];
  for (const frame of peer.framesOf(FRAME.message, id)) {
    const r = assembler.push(frame.payload);
    if (r.kind === 'message') out.push(r.message);
  }
  return out;
}
function sendMessage(peer: TunnelPeerServer, id: number, message: WsMessage): void {
  for (const payload of messagePayloads(message)) peer.socket.send(encodeFrame(FRAME.message, id, payload));
}
function upgrade(peer: TunnelPeerServer, path = '/terminals/websocket/1?token=t'): number {
  return peer.open(
    {
      replicaId: 'rep_ws',
      method: 'GET',
      path,
      upgrade: 'websocket',
      headers: [
        ['sec-websocket-protocol', 'terminado'],
        ['cookie', 'a=1'],
        ['sec-websocket-key', 'caller-key'],
        ['authorization', 'Bearer leaked'],
      ],
    },
    undefined,
    true,
  );
}

describe('WebSocket streams to a replica', () => {
  it('opens a socket to the replica and relays messages both ways, then the caller’s close', async () => {
    const rep = await replica();
    const peer = await setup(rep.port);
    const id = upgrade(peer);
    const head = await peer.head(id);
    expect(head).toEqual({ status: 101, headers: [['sec-websocket-protocol', 'terminado']] });
    expect(rep.seen).toEqual([{ url: '/terminals/websocket/1?token=t', protocol: 'terminado', cookie: 'a=1' }]);

    const big = Buffer.alloc(300 * 1024, 9);
    sendMessage(peer, id, '["stdin","ls\\r"]');
    sendMessage(peer, id, new Uint8Array(big));
    await waitFor(() => rep.received.length === 2, 'two messages at the replica');
    expect(rep.received[0]).toEqual({ data: '["stdin","ls\\r"]', binary: false });
    expect(rep.received[1]!.binary).toBe(true);
    expect(Buffer.compare(rep.received[1]!.data as Buffer, big)).toBe(0);

    rep.sockets[0]!.send('["stdout","file\\r\\n"]');
    rep.sockets[0]!.send(big);
    await peer.until(() => messagesOn(peer, id).length === 2, 'two messages from the replica');
    expect(messagesOn(peer, id)[0]).toBe('["stdout","file\\r\\n"]');
    expect(Buffer.compare(Buffer.from(messagesOn(peer, id)[1] as Uint8Array), big)).toBe(0);

    peer.socket.send(
      encodeFrame(
        FRAME.reset,
        id,
        new TextEncoder().encode(JSON.stringify({ code: WS_CLOSED, message: '', wsCode: 4000, wsReason: 'tab closed' })),
      ),
    );
    await waitFor(() => rep.closes.length === 1, 'the replica socket to close');
    expect(rep.closes).toEqual([{ code: 4000, reason: 'tab closed' }]);
  });

  it("sends the replica's close code back, and passes a refused upgrade back as HTTP", async () => {
    const rep = await replica();
    const peer = await setup(rep.port);
    const id = upgrade(peer);
    await peer.head(id);
    await waitFor(() => rep.sockets.length === 1, 'the replica connection');
    rep.sockets[0]!.close(4100, 'kernel died');
    expect(await peer.resetOf(id)).toMatchObject({ code: WS_CLOSED, wsCode: 4100, wsReason: 'kernel died' });

    const refusing = await replica({ refuse: true });
    const peer2 = await setup(refusing.port);
    const id2 = upgrade(peer2);
    expect((await peer2.head(id2)).status).toBe(403);
    await peer2.until(() => peer2.framesOf(FRAME.end, id2)[0], 'END of the refusal');
    expect(refusing.sockets).toEqual([]);
  });

  it('joins repeated cookie headers into one with "; " (RFC 6265), other repeated headers with ", "', async () => {
    const rep = await replica();
    const peer = await setup(rep.port);
    const headers: [string, string][] = [
      ['cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['accept-language', 'de'],
      ['accept-language', 'en'],
    ];
    const id = peer.open({ replicaId: 'rep_ws', method: 'GET', path: '/ws', upgrade: 'websocket', headers }, undefined, true);
    expect((await peer.head(id)).status).toBe(101);
    await waitFor(() => rep.seen.length === 1, 'the replica connection');
    expect(rep.seen[0]!.cookie).toBe('a=1; b=2');
    expect(rep.seen[0]!.acceptLanguage).toBe('de, en');
  });

  it("pauses the replica while the Worker's window is full and goes on when it grants", async () => {
    const rep = await replica();
    const peer = await setup(rep.port);
    const id = upgrade(peer);
    await peer.head(id);
    await waitFor(() => rep.sockets.length === 1, 'the replica connection');
    const piece = Buffer.alloc(256 * 1024, 1);
    for (let i = 0; i < 8; i++) rep.sockets[0]!.send(piece);
    const bytes = () => peer.framesOf(FRAME.message, id).reduce((n, f) => n + f.payload.byteLength, 0);
    // The window's worth arrives (the rest of the next message waits for a grant).
    await peer.until(() => messagesOn(peer, id).length === 3, 'three messages within the window');
    expect(bytes()).toBeLessThanOrEqual(TUNNEL_LIMITS.initialWindow);
    peer.window(id, 4 * TUNNEL_LIMITS.initialWindow);
    await peer.until(() => messagesOn(peer, id).length === 8, 'all eight once granted');
  });
});
