// Over 300 lines: the tunnel's cases share the test agent's signed socket and frame helpers; each case is one stream's fate.
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FRAME, RESET_CODES, TUNNEL_LIMITS, encodeFrame } from '../../protocol/tunnel.ts';
import { tunnelFor } from '../../workers/tunnel/tunnel-stub.ts';
import { api, errorOf, newAgent, signedRequest } from './helpers/agent.ts';
import { concat, connectTunnel, sameBytes, spec, viaTunnel, type TunnelPeer } from './helpers/tunnel.ts';

// The endpoints tunnel at the edge, against the real route and the real NodeTunnel object: the
// test is the agent (it opens the signed WebSocket and answers frames by hand) and the gateway
// (it sends requests to the node's object with `gridplane-replica`).

async function nodeWithReplica(replicaId = 'rep_a'): Promise<TunnelPeer> {
  const agent = await newAgent();
  await tunnelFor(env, agent.nodeId).setReplicas([spec(replicaId)]);
  const peer = await connectTunnel(agent);
  await peer.until(() => peer.texts.some((t) => t.includes(replicaId)), 'the desired set');
  return peer;
}

const text = (s: string) => new TextEncoder().encode(s);

async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { done, value } = await reader.read();
  if (done) throw new Error('the body ended early');
  return new TextDecoder().decode(value);
}

describe('the tunnel route', () => {
  it('refuses an unsigned upgrade, another node, and a plain GET', async () => {
    const node = await newAgent();
    const other = await newAgent();
    expect((await api(`/v1/nodes/${node.nodeId}/tunnel`, { headers: { Upgrade: 'websocket' } })).status).toBe(401);
    const wrong = await signedRequest(other.keyPair, other.nodeId, 'GET', `/v1/nodes/${node.nodeId}/tunnel`);
    wrong.headers.set('Upgrade', 'websocket');
    expect(await errorOf(await exports.default.fetch(wrong))).toMatchObject({ status: 403, code: 'wrong_node' });
    const plain = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/tunnel`);
    expect(await errorOf(await exports.default.fetch(plain))).toMatchObject({ status: 426, code: 'upgrade_required' });
  });

  it('sends the desired set on connect and again when it changes; load() says connected', async () => {
    const agent = await newAgent();
    const tunnel = tunnelFor(env, agent.nodeId);
    expect(await tunnel.setReplicas([spec('rep_1')])).toEqual({ ok: true, pushed: false });
    expect((await tunnel.load()).connected).toBe(false);
    const peer = await connectTunnel(agent);
    const first = JSON.parse(await peer.until(() => peer.texts[0], 'the first control message'));
    expect(first).toEqual({ type: 'replicas', replicas: [spec('rep_1')] });
    expect(await tunnel.setReplicas([spec('rep_1'), spec('rep_2')])).toEqual({ ok: true, pushed: true });
    const second = JSON.parse(await peer.until(() => peer.texts[1], 'the second control message'));
    expect(second.replicas.map((r: { replicaId: string }) => r.replicaId)).toEqual(['rep_1', 'rep_2']);
    expect(await tunnel.load()).toEqual({
      connected: true,
      replicas: {
        rep_1: { inflight: 0, started: 0, completed: 0, failed: 0, cancelled: 0 },
        rep_2: { inflight: 0, started: 0, completed: 0, failed: 0, cancelled: 0 },
      },
    });
    expect(await tunnel.setReplicas([{ ...spec('rep_3'), port: 0 }])).toMatchObject({ ok: false, error: expect.stringContaining('port') });
    expect(Object.keys((await tunnel.load()).replicas)).toEqual(['rep_1', 'rep_2']);
    peer.ws.close(1000, 'done');
    await expect.poll(async () => (await tunnel.load()).connected).toBe(false);
  });
});

describe('requests through the tunnel', () => {
  it('carries a request and streams the response chunk by chunk', async () => {
    const peer = await nodeWithReplica();
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/v1/chat/completions?stream=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ep-key', 'x-gridplane-key': 'k', cookie: 'session=abc' },
      body: '{"prompt":"hi"}',
    });
    const { id, open } = await peer.open();
    expect(open).toMatchObject({ replicaId: 'rep_a', method: 'POST', path: '/v1/chat/completions?stream=1' });
    const names = open.headers.map(([name]) => name);
    expect(names).toContain('cookie');
    expect(names).not.toContain('authorization');
    expect(names).not.toContain('x-gridplane-key');
    expect(names).not.toContain('gridplane-replica');
    expect(await peer.body(id)).toBe('{"prompt":"hi"}');

    peer.head(id, 200, [
      ['content-type', 'text/event-stream'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['gridplane-tunnel-error', 'forged'],
    ]);
    peer.data(id, 'data: one\n\n');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('gridplane-tunnel-error')).toBeNull();
    const reader = res.body!.getReader();
    // The second chunk is sent only after the first was read: a buffered response would hang here.
    expect(await readChunk(reader)).toBe('data: one\n\n');
    peer.data(id, 'data: two\n\n');
    expect(await readChunk(reader)).toBe('data: two\n\n');
    peer.end(id);
    expect((await reader.read()).done).toBe(true);
    expect((await tunnelFor(env, peer.agent.nodeId).load()).replicas.rep_a).toEqual({
      inflight: 0,
      started: 1,
      completed: 1,
      failed: 0,
      cancelled: 0,
    });
  });

  it('counts requests in memory and writes the counts within a second, not at each request', async () => {
    const peer = await nodeWithReplica();
    const stored = () =>
      runInDurableObject(tunnelFor(env, peer.agent.nodeId), (_, ctx) =>
        ctx.storage.sql.exec<{ started: number; completed: number }>('SELECT started, completed FROM replica_load').toArray(),
      );
    for (let n = 0; n < 3; n++) {
      const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/', {});
      const { id } = await peer.open(n);
      peer.head(id, 204, []);
      peer.end(id);
      expect((await pending).status).toBe(204);
    }
    // A storage write holds the object's outgoing frames until it is durable: none was made per
    // request (replica-load.ts). The timer writes the three requests as one row soon after.
    expect(await stored()).toEqual([]);
    await expect.poll(stored, { timeout: 5_000 }).toEqual([{ started: 3, completed: 3 }]);
    // load() is exact whatever is pending: it writes first.
    const next = viaTunnel(peer.agent.nodeId, 'rep_a', '/', {});
    const { id } = await peer.open(3);
    expect((await tunnelFor(env, peer.agent.nodeId).load()).replicas.rep_a).toMatchObject({ inflight: 1, started: 4, completed: 3 });
    peer.head(id, 204, []);
    peer.end(id);
    expect((await next).status).toBe(204);
  });

  it('carries many requests at once on one socket, each answered on its own stream', async () => {
    const peer = await nodeWithReplica();
    const count = 40;
    const responses = Array.from({ length: count }, (_, i) =>
      viaTunnel(peer.agent.nodeId, 'rep_a', `/echo/${i}`, { method: 'POST', body: `body-${i}` }),
    );
    const opens = await Promise.all(Array.from({ length: count }, (_, n) => peer.open(n)));
    expect(new Set(opens.map((o) => o.id)).size).toBe(count);
    // Answered in reverse order, each with its own path and body.
    for (const { id, open } of [...opens].reverse()) {
      const body = await peer.body(id);
      peer.head(id, 200);
      peer.data(id, `${open.path} ${body}`);
      peer.end(id);
    }
    const texts = await Promise.all(responses.map(async (r) => (await r).text()));
    expect(texts).toEqual(Array.from({ length: count }, (_, i) => `/echo/${i} body-${i}`));
  });

  it('never sends more request body than the agent granted, and resumes when it grants', async () => {
    const peer = await nodeWithReplica();
    const size = 3 * TUNNEL_LIMITS.initialWindow + 12345;
    const payload = new Uint8Array(size).map((_, i) => i % 251);
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/upload', { method: 'PUT', body: payload });
    const { id } = await peer.open();
    const received = () => peer.received(id);
    let granted = TUNNEL_LIMITS.initialWindow;
    while (!peer.framesOf(FRAME.end, id)[0]) {
      // The object stops at the window: wait for the body to reach it, check it went no further, grant more.
      await peer.until(() => received() === Math.min(granted, size) || peer.framesOf(FRAME.end, id)[0], 'the body up to the window');
      expect(received()).toBeLessThanOrEqual(granted);
      if (received() === size) break;
      peer.window(id, 512 * 1024);
      granted += 512 * 1024;
    }
    await peer.until(() => peer.framesOf(FRAME.end, id)[0], 'END of the body');
    expect(sameBytes(concat(peer.framesOf(FRAME.data, id).map((f) => f.payload)), payload)).toBe(true);
    expect(peer.framesOf(FRAME.data, id).every((f) => f.payload.byteLength <= TUNNEL_LIMITS.maxFramePayload)).toBe(true);
    peer.head(id, 204);
    peer.end(id);
    expect((await pending).status).toBe(204);
  });

  it('grants the agent window as the caller reads, and resets a stream that sends past it', async () => {
    const peer = await nodeWithReplica();
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/big');
    const { id } = await peer.open();
    peer.head(id, 200);
    const piece = new Uint8Array(TUNNEL_LIMITS.maxFramePayload).fill(7);
    for (let sent = 0; sent < TUNNEL_LIMITS.initialWindow; sent += piece.byteLength) peer.data(id, piece);
    const res = await pending;
    const reader = res.body!.getReader();
    let read = 0;
    while (read < TUNNEL_LIMITS.initialWindow) read += (await reader.read()).value!.byteLength;
    // Everything the agent sent was read, so the whole window came back.
    await peer.until(() => peer.granted(id) === TUNNEL_LIMITS.initialWindow, 'the window granted back');
    for (let sent = 0; sent <= TUNNEL_LIMITS.initialWindow; sent += piece.byteLength) peer.data(id, piece);
    expect(await peer.reset(id)).toMatchObject({ code: RESET_CODES.protocolError });
    await expect(async () => {
      for (;;) if ((await reader.read()).done) break;
    }).rejects.toThrow();
  });

  it('refuses a body over the limit with 413 before anything reaches the agent', async () => {
    const peer = await nodeWithReplica();
    const res = await viaTunnel(peer.agent.nodeId, 'rep_a', '/upload', {
      method: 'POST',
      body: new Uint8Array(TUNNEL_LIMITS.maxRequestBody + 1),
    });
    expect(await errorOf(res)).toMatchObject({ status: 413, code: 'body_too_large' });
    expect(res.headers.get('gridplane-tunnel-error')).toBe('body_too_large');
    expect(res.headers.get('gridplane-request-sent')).toBe('0');
    // The next request's OPEN is the first frame the agent sees.
    const next = viaTunnel(peer.agent.nodeId, 'rep_a', '/after');
    const { id, open } = await peer.open();
    expect(peer.frames[0]!.streamId).toBe(id);
    expect(open.path).toBe('/after');
    peer.head(id, 200);
    peer.end(id);
    expect((await next).status).toBe(200);
  });

  it('resets a streamed body that grows over the limit and answers 413', async () => {
    const peer = await nodeWithReplica();
    const chunk = new Uint8Array(TUNNEL_LIMITS.maxFramePayload * 8);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(chunk);
        sent += chunk.byteLength;
        if (sent > TUNNEL_LIMITS.maxRequestBody) controller.close();
      },
    });
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    const { id } = await peer.open();
    peer.autoGrant.add(id);
    // Any body the agent received before the grants caught up is acknowledged too.
    peer.take(id, peer.received(id));
    expect(await peer.reset(id, 30_000)).toMatchObject({ code: RESET_CODES.bodyTooLarge });
    expect(peer.received(id)).toBeLessThanOrEqual(TUNNEL_LIMITS.maxRequestBody);
    const res = await pending;
    expect(await errorOf(res)).toMatchObject({ status: 413, code: 'body_too_large' });
    expect(res.headers.get('gridplane-request-sent')).toBe('1');
  });
});

describe('failures', () => {
  it('tells the agent when the caller goes away mid-stream', async () => {
    const peer = await nodeWithReplica();
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/events');
    const { id } = await peer.open();
    peer.head(id, 200, [['content-type', 'text/event-stream']]);
    peer.data(id, 'data: 1\n\n');
    const reader = (await pending).body!.getReader();
    expect(await readChunk(reader)).toBe('data: 1\n\n');
    await reader.cancel();
    expect(await peer.reset(id)).toMatchObject({ code: RESET_CODES.callerGone });
    await expect
      .poll(async () => (await tunnelFor(env, peer.agent.nodeId).load()).replicas.rep_a)
      .toMatchObject({ inflight: 0, cancelled: 1 });
  });

  it('answers 503 tunnel_down with request-sent 0 when the node has no tunnel', async () => {
    const agent = await newAgent();
    await tunnelFor(env, agent.nodeId).setReplicas([spec('rep_a')]);
    const res = await viaTunnel(agent.nodeId, 'rep_a', '/');
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'tunnel_down' });
    expect(res.headers.get('gridplane-tunnel-error')).toBe('tunnel_down');
    expect(res.headers.get('gridplane-request-sent')).toBe('0');
  });

  it('answers 503 replica_unknown for a replica the node is not asked to run', async () => {
    const peer = await nodeWithReplica();
    const res = await viaTunnel(peer.agent.nodeId, 'rep_other', '/');
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'replica_unknown' });
    expect(res.headers.get('gridplane-request-sent')).toBe('0');
  });

  it('fails a request in flight with tunnel_down (request-sent 1) when the socket closes', async () => {
    const peer = await nodeWithReplica();
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/slow');
    await peer.open();
    peer.ws.close(1001, 'agent stopping');
    const res = await pending;
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'tunnel_down' });
    expect(res.headers.get('gridplane-request-sent')).toBe('1');
    expect((await tunnelFor(env, peer.agent.nodeId).load()).replicas.rep_a).toMatchObject({ inflight: 0, started: 1, failed: 1 });
  });

  it('says whether a replica that failed before its head got the request', async () => {
    const peer = await nodeWithReplica();
    const refused = viaTunnel(peer.agent.nodeId, 'rep_a', '/', { method: 'POST', body: 'x' });
    const first = await peer.open(0);
    peer.sendReset(first.id, RESET_CODES.replicaUnreachable, 'connect ECONNREFUSED 127.0.0.1:40001');
    const res = await refused;
    expect(await errorOf(res)).toMatchObject({ status: 502, code: 'replica_failed' });
    expect(res.headers.get('gridplane-request-sent')).toBe('0');

    const crashed = viaTunnel(peer.agent.nodeId, 'rep_a', '/', { method: 'POST', body: 'x' });
    const second = await peer.open(1);
    peer.sendReset(second.id, RESET_CODES.replicaFailed, 'socket hang up');
    const res2 = await crashed;
    expect(await errorOf(res2)).toMatchObject({ status: 502, code: 'replica_failed' });
    expect(res2.headers.get('gridplane-request-sent')).toBe('1');
  });

  it('times out a replica that sends no head, and one that stalls mid-body, and resets them on the agent', async () => {
    const peer = await nodeWithReplica();
    const headless = viaTunnel(peer.agent.nodeId, 'rep_a', '/', { headers: { 'gridplane-head-timeout-ms': '200' } });
    const first = await peer.open(0);
    const res = await headless;
    expect(await errorOf(res)).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(res.headers.get('gridplane-request-sent')).toBe('1');
    expect(await peer.reset(first.id)).toMatchObject({ code: RESET_CODES.upstreamTimeout });

    const stalling = viaTunnel(peer.agent.nodeId, 'rep_a', '/', { headers: { 'gridplane-idle-timeout-ms': '200' } });
    const second = await peer.open(1);
    peer.head(second.id, 200);
    peer.data(second.id, 'partial');
    const reader = (await stalling).body!.getReader();
    expect(await readChunk(reader)).toBe('partial');
    await expect(reader.read()).rejects.toThrow(/upstream_timeout/);
    expect(await peer.reset(second.id)).toMatchObject({ code: RESET_CODES.upstreamTimeout });
  });
});

describe('a node that breaks the protocol', () => {
  it('closes the socket of a node answering a stream it never opened; the real request is unaffected', async () => {
    const owner = await nodeWithReplica();
    const pending = viaTunnel(owner.agent.nodeId, 'rep_a', '/mine');
    const { id } = await owner.open();
    // Another node tries to answer the same stream id on its own tunnel.
    const intruder = await nodeWithReplica('rep_b');
    intruder.head(id, 200);
    intruder.data(id, 'forged');
    expect((await intruder.waitClosed()).code).toBe(1008);
    owner.head(id, 200);
    owner.data(id, 'genuine');
    owner.end(id);
    expect(await (await pending).text()).toBe('genuine');
  });

  it('closes the socket on a stream id past the last one opened, failing what is in flight', async () => {
    const peer = await nodeWithReplica();
    const pending = viaTunnel(peer.agent.nodeId, 'rep_a', '/');
    const { id } = await peer.open();
    peer.head(id + 1, 200);
    expect((await peer.waitClosed()).code).toBe(1008);
    expect(await errorOf(await pending)).toMatchObject({ status: 503, code: 'tunnel_down' });
  });

  it('closes the socket on a malformed frame, an OPEN from the agent, or a malformed control message', async () => {
    const short = await nodeWithReplica();
    short.ws.send(new Uint8Array([FRAME.head, 0, 0]));
    expect((await short.waitClosed()).code).toBe(1002);
    const opener = await nodeWithReplica();
    opener.ws.send(encodeFrame(FRAME.open, 9, text('{}')));
    expect((await opener.waitClosed()).code).toBe(1002);
    const control = await nodeWithReplica();
    control.ws.send(JSON.stringify({ type: 'replica_state', replicaId: 'rep_a', state: 'exploded', at: 1 }));
    expect((await control.waitClosed()).code).toBe(1007);
  });

  it('lets a new socket replace the old one: the old streams fail, new requests use the new socket', async () => {
    const old = await nodeWithReplica();
    const pending = viaTunnel(old.agent.nodeId, 'rep_a', '/');
    await old.open();
    const fresh = await connectTunnel(old.agent);
    expect((await old.waitClosed()).code).toBe(4001);
    const res = await pending;
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'tunnel_down' });
    expect(res.headers.get('gridplane-request-sent')).toBe('1');
    const next = viaTunnel(old.agent.nodeId, 'rep_a', '/again');
    const { id, open } = await fresh.open();
    expect(open.path).toBe('/again');
    fresh.head(id, 200);
    fresh.end(id);
    expect((await next).status).toBe(200);
    expect((await tunnelFor(env, old.agent.nodeId).load()).connected).toBe(true);
  });
});
