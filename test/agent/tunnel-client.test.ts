// Over 300 lines: the tunnel client's cases share the protocol peer and the replica server; each case is one stream or socket event.
// The agent's end of the endpoints tunnel against the protocol's peer (a loopback `ws` server that
// speaks protocol/tunnel.ts and checks the upgrade's signature) and a real HTTP server on loopback
// as the replica: requests and streamed responses, flow control both ways, cancellation, a
// replica that refuses connections, control messages and reconnects.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FRAME, RESET_CODES, TUNNEL_LIMITS, encodeFrame, type TunnelControlToAgent } from '../../protocol/tunnel.ts';
import { identityFromPkcs8, type Identity } from '../../edge-agent/src/identity.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import type { Sleep } from '../../edge-agent/src/sleep.ts';
import { runTunnel } from '../../edge-agent/src/endpoints/tunnel-client.ts';
import { TunnelPeerServer } from './helpers/tunnel-peer.ts';
import { waitFor } from './helpers/wait.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function newIdentity(): Promise<Identity> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
}

/** A replica: a real HTTP server on loopback with the test's handler. */
async function replica(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/**
 * A reconnect backoff the test ends: `slept` resolves when the agent starts waiting to reconnect
 * (so it has seen the close), and the agent reconnects only after `wake()`. With a backoff that
 * returns at once the agent is back within milliseconds and a test cannot act while it is down.
 */
function gatedSleep(): { sleep: Sleep; slept: Promise<void>; wake: () => void } {
  let noticed!: () => void;
  let wake!: () => void;
  const slept = new Promise<void>((r) => (noticed = r));
  const woken = new Promise<void>((r) => (wake = r));
  const sleep: Sleep = (_ms, signal) => {
    noticed();
    return new Promise<void>((r) => {
      void woken.then(() => r());
      signal?.addEventListener('abort', () => r(), { once: true });
    });
  };
  return { sleep, slept, wake };
}

async function setup(ports: Record<string, number>, extra: { onControl?: (m: TunnelControlToAgent) => void; sleep?: Sleep } = {}) {
  const identity = await newIdentity();
  const peer = await TunnelPeerServer.start(identity.nodeId);
  const controller = new AbortController();
  const log = createMemoryLogger();
  const tunnel = runTunnel({
    identity,
    controlPlaneUrl: peer.url,
    log,
    signal: controller.signal,
    onControl: extra.onControl ?? (() => {}),
    portOf: (id) => ports[id] ?? null,
    sleep: extra.sleep ?? (async () => {}),
  });
  cleanups.push(async () => {
    controller.abort();
    await tunnel.done;
    await peer.close();
  });
  await peer.connected();
  return { identity, peer, tunnel, controller, log };
}

describe('the tunnel connection', () => {
  it('upgrades with a valid signature, hands control messages over, and keeps reports while down', async () => {
    const controls: TunnelControlToAgent[] = [];
    const backoff = gatedSleep();
    const { peer, tunnel } = await setup({}, { onControl: (m) => controls.push(m), sleep: backoff.sleep });
    expect(peer.verdicts).toEqual([true]);
    peer.socket.send(JSON.stringify({ type: 'replicas', replicas: [] }));
    peer.socket.send(JSON.stringify({ type: 'ping', at: 5 }));
    await waitFor(() => controls.length === 1 && peer.texts.some((t) => t.includes('"pong"')), 'the desired set and a pong');
    expect(controls).toEqual([{ type: 'replicas', replicas: [] }]);
    expect(tunnel.send({ type: 'replica_state', replicaId: 'rep_1', state: 'starting', at: 1 })).toBe(true);
    await waitFor(() => peer.texts.some((t) => t.includes('"starting"')), 'the state report');

    // The Worker side closes: reports made while down are kept (the latest per replica) and sent on reconnect.
    // The agent stays down until the test wakes its backoff, so both reports are made while down.
    peer.socket.close(1012, 'restart');
    await backoff.slept;
    expect(tunnel.connected()).toBe(false);
    expect(tunnel.send({ type: 'replica_state', replicaId: 'rep_1', state: 'ready', at: 2 })).toBe(false);
    expect(tunnel.send({ type: 'replica_state', replicaId: 'rep_1', state: 'unhealthy', at: 3 })).toBe(false);
    backoff.wake();
    await peer.connected(2);
    await waitFor(() => peer.texts.some((t) => t.includes('"unhealthy"')), 'the held report');
    expect(peer.texts.filter((t) => t.includes('"ready"'))).toEqual([]);
    expect(peer.verdicts).toEqual([true, true]);
  });

  it('closes a socket that sends a malformed frame and opens a new one', async () => {
    const { peer } = await setup({});
    peer.socket.send(new Uint8Array([FRAME.data, 0]));
    await peer.connected(2);
    expect(peer.sockets[0]!.readyState).toBeGreaterThanOrEqual(2);
  });
});

describe('requests to a replica', () => {
  it('passes the request through and streams the response chunk by chunk', async () => {
    let seen: http.IncomingMessage | null = null;
    let seenBody = '';
    let next: (() => void) | null = null;
    const port = await replica((req, res) => {
      seen = req;
      req.on('data', (c) => (seenBody += c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'set-cookie': ['a=1', 'b=2'] });
        res.write('data: one\n\n');
        // The second chunk waits until the Worker side got the first: no buffering on the way.
        next = () => res.end('data: two\n\n');
      });
    });
    const { peer } = await setup({ rep_a: port });
    const id = peer.open(
      {
        replicaId: 'rep_a',
        method: 'POST',
        path: '/v1/chat/completions?stream=true',
        headers: [
          ['content-type', 'application/json'],
          ['cookie', 's=1'],
          ['authorization', 'Bearer leaked'],
        ],
      },
      new TextEncoder().encode('{"prompt":"hi"}'),
    );
    const head = await peer.head(id);
    expect(head.status).toBe(200);
    expect(head.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
    await peer.until(() => peer.received(id) > 0, 'the first chunk');
    expect(Buffer.from(peer.framesOf(FRAME.data, id)[0]!.payload).toString()).toBe('data: one\n\n');
    expect(peer.framesOf(FRAME.end, id)).toEqual([]);
    next!();
    expect(await peer.body(id)).toBe('data: one\n\ndata: two\n\n');
    expect(seen!.url).toBe('/v1/chat/completions?stream=true');
    expect(seen!.headers.cookie).toBe('s=1');
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seenBody).toBe('{"prompt":"hi"}');
  });

  it('joins repeated cookie headers into one with "; " (RFC 6265), other repeated headers stay apart', async () => {
    // An HTTP/2 caller sends each cookie pair as its own header (RFC 9113 §8.2.3); an HTTP/1.1
    // replica must get one Cookie header, and a "," there would make the pairs one cookie's value.
    let raw: string[] = [];
    const port = await replica((req, res) => {
      raw = req.rawHeaders;
      res.end('ok');
    });
    const { peer } = await setup({ rep_a: port });
    const id = peer.open({
      replicaId: 'rep_a',
      method: 'GET',
      path: '/',
      headers: [
        ['cookie', 'a=1'],
        ['accept', 'text/html'],
        ['Cookie', 'b=2'],
        ['accept', 'text/plain'],
      ],
    });
    expect(await peer.body(id)).toBe('ok');
    const pairs = Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i]!.toLowerCase(), raw[2 * i + 1]!]);
    expect(pairs.filter(([n]) => n === 'cookie')).toEqual([['cookie', 'a=1; b=2']]);
    expect(pairs.filter(([n]) => n === 'accept')).toEqual([
      ['accept', 'text/html'],
      ['accept', 'text/plain'],
    ]);
  });

  it('serves many streams at once', async () => {
    const port = await replica((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => res.end(`${req.url} ${body}`));
    });
    const { peer } = await setup({ rep_a: port });
    const ids = Array.from({ length: 30 }, (_, i) =>
      peer.open({ replicaId: 'rep_a', method: 'PUT', path: `/n/${i}` }, new TextEncoder().encode(`b${i}`)),
    );
    const bodies = await Promise.all(ids.map((id) => peer.body(id)));
    expect(bodies).toEqual(ids.map((_, i) => `/n/${i} b${i}`));
  });

  it('sends no more response than the Worker granted, and the rest once it grants', async () => {
    const size = 3 * TUNNEL_LIMITS.initialWindow;
    const port = await replica((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(size, 7));
    });
    const { peer } = await setup({ rep_a: port });
    const id = peer.open({ replicaId: 'rep_a', method: 'GET', path: '/big' });
    let granted = TUNNEL_LIMITS.initialWindow;
    while (peer.received(id) < size) {
      await peer.until(() => peer.received(id) === granted || peer.received(id) === size, 'the response up to the window');
      expect(peer.received(id)).toBeLessThanOrEqual(granted);
      if (peer.received(id) === size) break;
      peer.window(id, TUNNEL_LIMITS.initialWindow / 2);
      granted += TUNNEL_LIMITS.initialWindow / 2;
    }
    await peer.until(() => peer.framesOf(FRAME.end, id)[0], 'END');
    expect(peer.framesOf(FRAME.data, id).every((f) => f.payload.byteLength <= TUNNEL_LIMITS.maxFramePayload)).toBe(true);
  });

  it('grants request body back as the replica takes it', async () => {
    const size = 3 * TUNNEL_LIMITS.initialWindow;
    let got = 0;
    const port = await replica((req, res) => {
      req.on('data', (c: Buffer) => (got += c.byteLength));
      req.on('end', () => res.end(String(got)));
    });
    const { peer } = await setup({ rep_a: port });
    const id = peer.open({ replicaId: 'rep_a', method: 'POST', path: '/upload' }, undefined, true);
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    // The peer keeps to its window: it sends only what the agent granted.
    while (sent < size) {
      await peer.until(() => TUNNEL_LIMITS.initialWindow + peer.granted(id) - sent >= chunk.byteLength, 'window for the next chunk');
      peer.data(id, chunk);
      sent += chunk.byteLength;
    }
    peer.end(id);
    expect(await peer.body(id)).toBe(String(size));
    expect(peer.granted(id)).toBeGreaterThanOrEqual(size - TUNNEL_LIMITS.initialWindow);
  });

  it('resets a stream whose Worker sends past the window', async () => {
    // A replica that never reads: once the sockets' buffers are full, nothing more is granted.
    const port = await replica(() => {});
    const { peer } = await setup({ rep_a: port });
    const id = peer.open({ replicaId: 'rep_a', method: 'POST', path: '/' }, undefined, true);
    peer.data(id, new Uint8Array(TUNNEL_LIMITS.maxRequestBody - 1));
    expect(await peer.resetOf(id)).toMatchObject({ code: RESET_CODES.protocolError });
  });

  it('drops the replica request when the caller goes away', async () => {
    let replicaSawClose = false;
    const port = await replica((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      res.on('close', () => (replicaSawClose = true));
    });
    const { peer } = await setup({ rep_a: port });
    const id = peer.open({ replicaId: 'rep_a', method: 'GET', path: '/events' });
    await peer.until(() => peer.received(id) > 0, 'the first chunk');
    peer.reset(id, RESET_CODES.callerGone, 'the caller went away');
    await waitFor(() => replicaSawClose, 'the replica to see its client go');
  });

  it('answers replica_unreachable for a port that refuses connections, and replica_unknown for no replica', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const { peer } = await setup({ rep_a: closedPort });
    const refused = peer.open({ replicaId: 'rep_a', method: 'POST', path: '/' }, new TextEncoder().encode('x'));
    const reset = await peer.resetOf(refused);
    expect(reset.code).toBe(RESET_CODES.replicaUnreachable);
    expect(reset.message).toMatch(/ECONNREFUSED/);
    const unknown = peer.open({ replicaId: 'rep_zzz', method: 'GET', path: '/' });
    expect((await peer.resetOf(unknown)).code).toBe(RESET_CODES.replicaUnknown);
  });

  it('resets a replica that breaks off its response', async () => {
    const port = await replica((_req, res) => {
      res.writeHead(200);
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
    });
    const { peer } = await setup({ rep_a: port });
    const id = peer.open({ replicaId: 'rep_a', method: 'GET', path: '/' });
    expect((await peer.resetOf(id)).code).toBe(RESET_CODES.replicaFailed);
  });

  it('resets a malformed OPEN and a second OPEN of the same stream', async () => {
    const port = await replica((req, res) => req.on('end', () => res.end('ok')).resume());
    const { peer } = await setup({ rep_a: port });
    peer.socket.send(encodeFrame(FRAME.open, 77, new TextEncoder().encode('{"replicaId":1}')));
    expect((await peer.resetOf(77)).code).toBe(RESET_CODES.protocolError);
    const id = peer.open({ replicaId: 'rep_a', method: 'POST', path: '/' }, undefined, true);
    peer.socket.send(
      encodeFrame(FRAME.open, id, new TextEncoder().encode(JSON.stringify({ replicaId: 'rep_a', method: 'GET', path: '/', headers: [] }))),
    );
    expect((await peer.resetOf(id)).code).toBe(RESET_CODES.protocolError);
  });
});
