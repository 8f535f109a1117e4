import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FRAME, RESET_CODES, TUNNEL_LIMITS, encodeFrame, parseJsonPayload, tunnelResetSchema } from '../../protocol/tunnel.ts';
import { MessageAssembler, WS_CLOSED, WS_LIMITS, messagePayloads, type WsMessage } from '../../protocol/tunnel-ws.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { tunnelFor } from '../../workers/tunnel/tunnel-stub.ts';
import { call, errorOf, newAgent, registeredAgent, registration } from './helpers/agent.ts';
import { connectTunnel, spec, viaTunnel, type TunnelPeer } from './helpers/tunnel.ts';

// WebSockets through the endpoints tunnel (protocol/tunnel-ws.ts), against the real NodeTunnel
// object and, at the end, the real gateway route: the test is the agent (signed tunnel socket,
// frames by hand) and the caller (a WebSocket upgrade to the object or to /e/<id>/…).

async function nodeWithReplica(replicaId = 'rep_ws'): Promise<TunnelPeer> {
  const agent = await newAgent();
  await tunnelFor(env, agent.nodeId).setReplicas([spec(replicaId)]);
  const peer = await connectTunnel(agent);
  await peer.until(() => peer.texts.some((t) => t.includes(replicaId)), 'the desired set');
  return peer;
}

/** The caller's end of an accepted WebSocket, recording what it gets. */
class Caller {
  readonly messages: (string | Uint8Array)[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(
    readonly ws: WebSocket,
    peer: TunnelPeer,
  ) {
    ws.accept();
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (e) => {
      this.messages.push(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
      peer.poke();
    });
    ws.addEventListener('close', (e) => {
      this.closed = { code: e.code, reason: e.reason };
      peer.poke();
    });
  }
}

/** The agent's side: whole messages received on a stream, and messages sent on it. */
function messagesOn(peer: TunnelPeer, id: number): WsMessage[] {
  const assembler = new MessageAssembler();
  const out: WsMessage[] = [];
  for (const frame of peer.framesOf(FRAME.message, id)) {
    const r = assembler.push(frame.payload);
    if (r.kind === 'message') out.push(r.message);
  }
  return out;
}
function sendMessage(peer: TunnelPeer, id: number, message: WsMessage): void {
  for (const payload of messagePayloads(message)) peer.ws.send(encodeFrame(FRAME.message, id, payload));
}
async function resetOf(peer: TunnelPeer, id: number) {
  const frame = await peer.until(() => peer.framesOf(FRAME.reset, id)[0], `RESET of ${id}`);
  return parseJsonPayload(tunnelResetSchema, frame.payload)!;
}

async function upgraded(peer: TunnelPeer, path = '/api/kernels/k1/channels?token=t'): Promise<{ id: number; caller: Caller }> {
  const pending = viaTunnel(peer.agent.nodeId, 'rep_ws', path, {
    headers: { upgrade: 'websocket', 'sec-websocket-protocol': 'v1.kernel.websocket.jupyter.org' },
  });
  const { id, open } = await peer.open(peer.framesOf(FRAME.open).length);
  expect(open).toMatchObject({ method: 'GET', path, upgrade: 'websocket' });
  peer.head(id, 101, [['sec-websocket-protocol', 'v1.kernel.websocket.jupyter.org']]);
  const res = await pending;
  expect(res.status).toBe(101);
  expect(res.headers.get('sec-websocket-protocol')).toBe('v1.kernel.websocket.jupyter.org');
  return { id, caller: new Caller(res.webSocket!, peer) };
}

describe('WebSockets through the tunnel object', () => {
  it('opens the replica socket and relays text and binary messages both ways with their boundaries', async () => {
    const peer = await nodeWithReplica();
    const { id, caller } = await upgraded(peer);
    const names = peer
      .framesOf(FRAME.open)
      .map((f) => new TextDecoder().decode(f.payload))
      .join();
    expect(names).not.toMatch(/sec-websocket-key|"upgrade"\s*,\s*"websocket"\]/i);
    const big = new Uint8Array(200 * 1024).map((_, i) => i % 253);
    caller.ws.send('{"msg_type":"execute_request"}');
    caller.ws.send(big);
    caller.ws.send('');
    await peer.until(() => messagesOn(peer, id).length === 3, 'three messages at the agent');
    const got = messagesOn(peer, id);
    expect(got[0]).toBe('{"msg_type":"execute_request"}');
    expect(got[1]).toEqual(big);
    expect(got[2]).toBe('');
    // 200 KiB crossed in pieces no bigger than a frame.
    expect(peer.framesOf(FRAME.message, id).every((f) => f.payload.byteLength <= TUNNEL_LIMITS.maxFramePayload)).toBe(true);

    sendMessage(peer, id, 'stream output');
    sendMessage(peer, id, big);
    await peer.until(() => caller.messages.length === 2, 'two messages at the caller');
    expect(caller.messages[0]).toBe('stream output');
    expect(caller.messages[1]).toEqual(big);
    expect((await tunnelFor(env, peer.agent.nodeId).load()).replicas.rep_ws).toMatchObject({ inflight: 1, started: 1 });

    caller.ws.close(4000, 'tab closed');
    expect(await resetOf(peer, id)).toMatchObject({ code: WS_CLOSED, wsCode: 4000, wsReason: 'tab closed' });
    await expect
      .poll(async () => (await tunnelFor(env, peer.agent.nodeId).load()).replicas.rep_ws)
      .toMatchObject({ inflight: 0, completed: 1 });
  });

  it("closes the caller's socket with the replica's code when the replica closes", async () => {
    const peer = await nodeWithReplica();
    const { id, caller } = await upgraded(peer);
    peer.sendReset(id, WS_CLOSED, 'the replica closed');
    // A close without a code is a normal close.
    expect((await peer.until(() => caller.closed, 'the caller to be closed')).code).toBe(1000);
    const second = await upgraded(peer);
    peer.ws.send(
      encodeFrame(
        FRAME.reset,
        second.id,
        new TextEncoder().encode(JSON.stringify({ code: WS_CLOSED, message: '', wsCode: 4321, wsReason: 'kernel restarted' })),
      ),
    );
    expect(await peer.until(() => second.caller.closed, 'the second caller to be closed')).toEqual({
      code: 4321,
      reason: 'kernel restarted',
    });
  });

  it("answers the replica's refusal of an upgrade as an HTTP response", async () => {
    const peer = await nodeWithReplica();
    const pending = viaTunnel(peer.agent.nodeId, 'rep_ws', '/terminals/websocket/1', { headers: { upgrade: 'websocket' } });
    const { id } = await peer.open();
    peer.head(id, 403, [['content-type', 'text/plain']]);
    peer.data(id, 'this needs its token');
    peer.end(id);
    const res = await pending;
    expect(res.status).toBe(403);
    expect(res.webSocket).toBeNull();
    expect(await res.text()).toBe('this needs its token');
  });

  it('closes both ends with 1009 on a message over the limit, and 1008 on a caller the replica cannot keep up with', async () => {
    const peer = await nodeWithReplica();
    const { id, caller } = await upgraded(peer);
    caller.ws.send(new Uint8Array(WS_LIMITS.maxMessage + 1));
    expect(await resetOf(peer, id)).toMatchObject({ code: WS_CLOSED, wsCode: 1009 });
    expect((await peer.until(() => caller.closed, 'the caller closed')).code).toBe(1009);
    expect(peer.framesOf(FRAME.message, id)).toEqual([]);

    // The agent grants nothing: a window's worth crosses, a bounded buffer more is held, then the caller is closed.
    const slow = await upgraded(peer);
    const piece = new Uint8Array(256 * 1024);
    for (let i = 0; i < 16 && !slow.caller.closed; i++) slow.caller.ws.send(piece);
    expect(await resetOf(peer, slow.id)).toMatchObject({ code: WS_CLOSED, wsCode: 1008 });
    const sent = peer.framesOf(FRAME.message, slow.id).reduce((n, f) => n + f.payload.byteLength, 0);
    expect(sent).toBeLessThanOrEqual(TUNNEL_LIMITS.initialWindow);
    expect((await peer.until(() => slow.caller.closed, 'the slow caller closed')).code).toBe(1008);
  });

  it('holds messages beyond the agent window until it grants, and resets a replica that sends past its window', async () => {
    const peer = await nodeWithReplica();
    const { id, caller } = await upgraded(peer);
    const piece = new Uint8Array(300 * 1024).fill(1);
    for (let i = 0; i < 4; i++) caller.ws.send(piece);
    await peer.until(() => messagesOn(peer, id).length === 3, 'three messages within the window');
    const bytes = () => peer.framesOf(FRAME.message, id).reduce((n, f) => n + f.payload.byteLength, 0);
    expect(bytes()).toBeLessThanOrEqual(TUNNEL_LIMITS.initialWindow);
    peer.window(id, 512 * 1024);
    await peer.until(() => messagesOn(peer, id).length === 4, 'the fourth once granted');

    // A frame that belongs to HTTP streams on an open socket: the node broke the protocol.
    peer.data(id, 'not a message');
    expect(await resetOf(peer, id)).toMatchObject({ code: RESET_CODES.protocolError });
    expect((await peer.until(() => caller.closed, 'the caller closed')).code).toBe(1011);
  });

  it("closes the caller's socket with 1011 when the node's tunnel goes", async () => {
    const peer = await nodeWithReplica();
    const { caller } = await upgraded(peer);
    peer.ws.close(1001, 'agent stopping');
    expect((await peer.until(() => caller.closed, 'the caller closed')).code).toBe(1011);
  });
});

describe('WebSockets through the endpoint URL', () => {
  it('carries a caller upgrade on /e/<id>/… to the replica (public endpoint; a private one needs its key)', async () => {
    const agent = await registeredAgent(registration({ location: { lat: 48.86, lon: 2.35, country: 'FR' } }));
    await env.DB.prepare("UPDATE nodes SET status = 'online' WHERE id = ?").bind(agent.nodeId).run();
    const replicaId = `rep_${crypto.randomUUID().slice(0, 12)}`;
    await tunnelFor(env, agent.nodeId).setReplicas([spec(replicaId)]);
    const peer = await connectTunnel(agent);
    const endpoints: Record<'open' | 'closed', string> = {
      open: `ep_${crypto.randomUUID().replace(/-/g, '')}`,
      closed: `ep_${crypto.randomUUID().replace(/-/g, '')}`,
    };
    const now = Date.now();
    for (const [kind, id] of Object.entries(endpoints)) {
      await env.DB.batch([
        env.DB.prepare(
          `INSERT INTO endpoints (id, account_id, request_hash, name, image, port, health_path, gpu_count, min_replicas, max_replicas,
             max_price_per_gpu_hour, target_inflight, public, status, desired_replicas, last_active_at, created_at, updated_at)
           VALUES (?, ?, 'h', 'ws', 'ghcr.io/example/server:1', 8000, '/health', 1, 0, 1, 10000000, 4, ?, 'active', 1, ?, ?, ?)`,
        ).bind(id, `acct_${id}`, kind === 'open' ? 1 : 0, now, now, now),
        env.DB.prepare(
          `INSERT INTO endpoint_replicas (id, endpoint_id, node_id, generation, state, price_per_gpu_hour, gpu_count, placed_at, ready_since, updated_at)
           VALUES (?, ?, ?, 1, 'ready', 1000000, 1, ?, ?, ?)`,
        ).bind(kind === 'open' ? replicaId : `${replicaId}x`, id, agent.nodeId, now, now, now),
        env.DB.prepare("INSERT INTO endpoint_keys (hash, endpoint_id, prefix, name, created_at) VALUES (?, ?, 'gpe_', 'k', ?)").bind(
          await sha256Hex(new TextEncoder().encode(`key-${id}`)),
          id,
          now,
        ),
      ]);
    }
    const refused = await call(
      new Request(`http://gridplane.test/e/${endpoints.closed}/terminals/websocket/1`, { headers: { upgrade: 'websocket' } }),
    );
    expect(await errorOf(refused)).toMatchObject({ status: 401, code: 'unauthorized' });

    const pending = call(
      new Request(`http://gridplane.test/e/${endpoints.open}/terminals/websocket/1?token=t`, { headers: { upgrade: 'websocket' } }),
    );
    const { id, open } = await peer.open();
    expect(open).toMatchObject({ replicaId, path: '/terminals/websocket/1?token=t', upgrade: 'websocket' });
    peer.head(id, 101);
    const res = await pending;
    expect(res.status).toBe(101);
    const caller = new Caller(res.webSocket!, peer);
    caller.ws.send('["stdin","echo hi\\r"]');
    await peer.until(() => messagesOn(peer, id).length === 1, 'the keystrokes at the agent');
    expect(messagesOn(peer, id)).toEqual(['["stdin","echo hi\\r"]']);
    sendMessage(peer, id, '["stdout","hi\\r\\n"]');
    await peer.until(() => caller.messages.length === 1, 'the output at the caller');
    expect(caller.messages).toEqual(['["stdout","hi\\r\\n"]']);
    caller.ws.close(1000, 'done');
    expect(await resetOf(peer, id)).toMatchObject({ code: WS_CLOSED, wsCode: 1000 });
  });
});
