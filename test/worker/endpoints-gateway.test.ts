// Over 300 lines: the gateway's cases share the scripted agents of three nodes; each case is one kind of request.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FRAME } from '../../protocol/tunnel.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { BUDGETS } from '../../workers/limits/rate-limit.ts';
import { tunnelFor } from '../../workers/tunnel/tunnel-stub.ts';
import { call, errorOf, registeredAgent, registration, type TestAgent } from './helpers/agent.ts';
import { connectTunnel, spec, type TunnelPeer } from './helpers/tunnel.ts';

// The endpoint URL /e/{id}/… end to end inside workerd: the real app, the real NodeTunnel objects,
// real D1. Each test plays the agents of the nodes that run the replicas over the signed tunnel
// WebSocket (helpers/tunnel.ts) and scripts what they answer. Endpoints, keys and replicas are
// written as the control plane stores them (db/schema/endpoints.ts).

const PARIS = { lat: 48.86, lon: 2.35, country: 'FR' };
const TOKYO = { lat: 35.68, lon: 139.69, country: 'JP' };
const NEW_YORK = { lat: 40.71, lon: -74.01, country: 'US' };

let seq = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}${crypto.randomUUID().slice(0, 6)}`;

interface Replica {
  replicaId: string;
  agent: TestAgent;
  peer: TunnelPeer | null;
}

/** A node where the test says, online, with its tunnel open (unless `tunnel: false`) and asked to run `replicaId`. */
async function node(location: typeof PARIS, replicaId: string, opts: { tunnel?: boolean } = {}): Promise<Replica> {
  const agent = await registeredAgent(registration({ location }));
  await env.DB.prepare("UPDATE nodes SET status = 'online' WHERE id = ?").bind(agent.nodeId).run();
  await tunnelFor(env, agent.nodeId).setReplicas([spec(replicaId)]);
  const peer = opts.tunnel === false ? null : await connectTunnel(agent);
  return { replicaId, agent, peer };
}

async function endpoint(
  opts: { public?: boolean; status?: string; replicas?: { replica: Replica; state?: string }[] } = {},
): Promise<{ id: string; key: string }> {
  const id = unique('ep');
  const key = `gpe_${crypto.randomUUID().replace(/-/g, '')}`;
  const now = Date.now();
  const statements = [
    env.DB.prepare(
      `INSERT INTO endpoints (id, account_id, request_hash, name, image, port, health_path, gpu_count, min_replicas, max_replicas,
         max_price_per_gpu_hour, target_inflight, public, status, desired_replicas, last_active_at, created_at, updated_at)
       VALUES (?, ?, 'h', 'test', 'ghcr.io/example/server:1', 8000, '/health', 1, 0, 3, 10000000, 4, ?, ?, ?, ?, ?, ?)`,
    ).bind(id, unique('acct'), opts.public ? 1 : 0, opts.status ?? 'active', opts.replicas?.length ?? 0, now, now, now),
    env.DB.prepare("INSERT INTO endpoint_keys (hash, endpoint_id, prefix, name, created_at) VALUES (?, ?, ?, 'test key', ?)").bind(
      await sha256Hex(new TextEncoder().encode(key)),
      id,
      key.slice(0, 12),
      now,
    ),
    ...(opts.replicas ?? []).map(({ replica, state }) =>
      env.DB.prepare(
        `INSERT INTO endpoint_replicas (id, endpoint_id, node_id, generation, state, price_per_gpu_hour, gpu_count, placed_at, ready_since, updated_at)
         VALUES (?, ?, ?, 1, ?, 1000000, 1, ?, ?, ?)`,
      ).bind(replica.replicaId, id, replica.agent.nodeId, state ?? 'ready', now, now, now),
    ),
  ];
  await env.DB.batch(statements);
  return { id, key };
}

function request(path: string, init: RequestInit & { from?: { lat: number; lon: number }; key?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.from) headers.set('x-gridplane-client-location', `${init.from.lat},${init.from.lon}`);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  return call(new Request(`http://gridplane.test${path}`, { ...init, headers }));
}

/** The replica's side of one request: answers the n-th OPEN with a status and body. */
async function answer(
  peer: TunnelPeer,
  n: number,
  status = 200,
  body = 'ok',
  headers: [string, string][] = [],
): Promise<{ id: number; path: string; method: string; headers: [string, string][] }> {
  const { id, open } = await peer.open(n);
  peer.head(id, status, headers);
  if (body) peer.data(id, body);
  peer.end(id);
  return { id, path: open.path, method: open.method, headers: open.headers };
}

describe('endpoint URL: access', () => {
  it('answers 404 endpoint_not_found for an endpoint that does not exist', async () => {
    const res = await request('/e/ep_nothing_here/v1/models');
    expect(await errorOf(res)).toMatchObject({ status: 404, code: 'endpoint_not_found' });
  });

  it('needs the endpoint key: none or a wrong one is 401; Bearer or x-gridplane-key pass, and neither reaches the replica', async () => {
    const paris = await node(PARIS, unique('rep'));
    const ep = await endpoint({ replicas: [{ replica: paris }] });
    expect(await errorOf(await request(`/e/${ep.id}/v1/models`))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await errorOf(await request(`/e/${ep.id}/v1/models`, { key: 'gpe_not_a_key' }))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect(paris.peer!.framesOf(FRAME.open)).toHaveLength(0);

    const viaBearer = request(`/e/${ep.id}/v1/models?limit=2`, { key: ep.key, headers: { 'x-custom': 'kept' } });
    const seen = await answer(paris.peer!, 0, 200, '{"data":[]}', [['content-type', 'application/json']]);
    const res = await viaBearer;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"data":[]}');
    expect(seen).toMatchObject({ method: 'GET', path: '/v1/models?limit=2' });
    const names = seen.headers.map(([name]) => name.toLowerCase());
    expect(names).toContain('x-custom');
    expect(names).not.toContain('authorization');
    expect(names).not.toContain('x-gridplane-client-location');

    const viaHeader = request(`/e/${ep.id}/`, { headers: { 'x-gridplane-key': ep.key } });
    const second = await answer(paris.peer!, 1);
    expect((await viaHeader).status).toBe(200);
    expect(second.path).toBe('/');
    expect(second.headers.map(([name]) => name.toLowerCase())).not.toContain('x-gridplane-key');
  });

  it('stops taking a revoked key once the isolate refreshes the endpoint (within ~2 s)', async () => {
    const paris = await node(PARIS, unique('rep'));
    const ep = await endpoint({ replicas: [{ replica: paris }] });
    const first = request(`/e/${ep.id}/ping`, { key: ep.key });
    await answer(paris.peer!, 0);
    expect((await first).status).toBe(200);
    const revokedAt = Date.now();
    await env.DB.prepare('UPDATE endpoint_keys SET revoked_at = ? WHERE endpoint_id = ?').bind(revokedAt, ep.id).run();
    // Until the isolate's copy expires the key may still pass (each such request is answered);
    // the positive signal is the first 401, and it must come within the cache's bound.
    let opens = 1;
    for (;;) {
      const pending = request(`/e/${ep.id}/ping`, { key: ep.key });
      const raced = await Promise.race([pending.then((r) => ({ r })), paris.peer!.open(opens).then(() => null)]);
      if (raced !== null) {
        expect(await errorOf(raced.r)).toMatchObject({ status: 401, code: 'unauthorized' });
        break;
      }
      await answer(paris.peer!, opens++);
      await (await pending).text();
      expect(Date.now() - revokedAt, 'a revoked key still passed after the refresh bound').toBeLessThan(2_000 + 1_500);
    }
  });

  it('lets anyone call a public endpoint, with no key', async () => {
    const tokyo = await node(TOKYO, unique('rep'));
    const ep = await endpoint({ public: true, replicas: [{ replica: tokyo }] });
    const pending = request(`/e/${ep.id}/v1/completions`, {
      method: 'POST',
      body: '{"prompt":"hi"}',
      headers: { 'content-type': 'application/json' },
    });
    const { id } = await tokyo.peer!.open(0);
    expect(await tokyo.peer!.body(id)).toBe('{"prompt":"hi"}');
    tokyo.peer!.head(id, 201, [['content-type', 'text/plain']]);
    tokyo.peer!.data(id, 'done');
    tokyo.peer!.end(id);
    const res = await pending;
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('done');
  });

  it('answers a stopped endpoint with 503 endpoint_stopped and sends nothing to its replicas', async () => {
    const paris = await node(PARIS, unique('rep'));
    const ep = await endpoint({ status: 'stopped', public: true, replicas: [{ replica: paris }] });
    expect(await errorOf(await request(`/e/${ep.id}/x`))).toMatchObject({ status: 503, code: 'endpoint_stopped' });
    expect(paris.peer!.framesOf(FRAME.open)).toHaveLength(0);
  });
});

describe('endpoint URL: rate limit', () => {
  it('counts each key in its own budget: past it 429 with Retry-After and nothing reaches the replica; another key still passes', {
    timeout: 180_000,
  }, async () => {
    const { binding, limit, periodS } = BUDGETS.endpointKey;
    const windowOf = () => Math.floor(Date.now() / (periodS * 1000));
    // The binding counts in fixed windows: a measure that straddles a boundary is taken again with fresh keys (at most three times).
    for (let attempt = 0; ; attempt++) {
      const before = windowOf();
      try {
        const paris = await node(PARIS, unique('rep'));
        const ep = await endpoint({ replicas: [{ replica: paris }] });
        const other = `gpe_${crypto.randomUUID().replace(/-/g, '')}`;
        await env.DB.prepare("INSERT INTO endpoint_keys (hash, endpoint_id, prefix, name, created_at) VALUES (?, ?, ?, 'second', ?)")
          .bind(await sha256Hex(new TextEncoder().encode(other)), ep.id, other.slice(0, 12), Date.now())
          .run();
        // All but one of the key's budget spent straight through the binding, under the key the gateway counts it by.
        const counted = `key:${await sha256Hex(new TextEncoder().encode(ep.key))}`;
        for (let i = 0; i < limit - 1; i++) expect((await (env[binding] as RateLimit).limit({ key: counted })).success).toBe(true);
        const last = request(`/e/${ep.id}/x`, { key: ep.key });
        await answer(paris.peer!, 0);
        expect((await last).status).toBe(200);
        const refused = await request(`/e/${ep.id}/x`, { key: ep.key });
        expect(refused.headers.get('Retry-After')).toBe(String(periodS));
        expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'rate_limited' });
        expect(paris.peer!.framesOf(FRAME.open)).toHaveLength(1);
        const fresh = request(`/e/${ep.id}/x`, { key: other });
        await answer(paris.peer!, 1);
        expect((await fresh).status).toBe(200);
        return;
      } catch (error) {
        if (windowOf() === before || attempt === 2) throw error;
      }
    }
  });
});

describe('endpoint URL: routing and failover', () => {
  it('sends each caller to the replica nearest to it, and streams the answer chunk by chunk', async () => {
    const [paris, tokyo, newYork] = await Promise.all([
      node(PARIS, unique('rep')),
      node(TOKYO, unique('rep')),
      node(NEW_YORK, unique('rep')),
    ]);
    const ep = await endpoint({ public: true, replicas: [{ replica: paris }, { replica: tokyo }, { replica: newYork }] });

    const fromLondon = request(`/e/${ep.id}/v1/chat/completions`, { method: 'POST', body: '{}', from: { lat: 51.5, lon: -0.13 } });
    const { id } = await paris.peer!.open(0);
    paris.peer!.head(id, 200, [['content-type', 'text/event-stream']]);
    paris.peer!.data(id, 'data: one\n\n');
    const res = await fromLondon;
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    // The first chunk arrives while the replica has not sent the second: nothing is buffered whole.
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    paris.peer!.data(id, 'data: two\n\n');
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: two\n\n');
    paris.peer!.end(id);
    expect((await reader.read()).done).toBe(true);

    const fromOsaka = request(`/e/${ep.id}/x`, { from: { lat: 34.69, lon: 135.5 } });
    await answer(tokyo.peer!, 0);
    expect((await fromOsaka).status).toBe(200);
    const fromBoston = request(`/e/${ep.id}/x`, { from: { lat: 42.36, lon: -71.06 } });
    await answer(newYork.peer!, 0);
    expect((await fromBoston).status).toBe(200);
    expect(paris.peer!.framesOf(FRAME.open)).toHaveLength(1);
  });

  it("fails over to the next replica when the nearest one's tunnel is down, even for a POST (nothing was sent)", async () => {
    const paris = await node(PARIS, unique('rep'), { tunnel: false });
    const newYork = await node(NEW_YORK, unique('rep'));
    const ep = await endpoint({ public: true, replicas: [{ replica: paris }, { replica: newYork }] });
    const pending = request(`/e/${ep.id}/v1/completions`, { method: 'POST', body: '{"prompt":"x"}', from: { lat: 48.8, lon: 2.3 } });
    const { id } = await newYork.peer!.open(0);
    // The body was kept for the failover and arrives whole at the second replica.
    expect(await newYork.peer!.body(id)).toBe('{"prompt":"x"}');
    newYork.peer!.head(id, 200);
    newYork.peer!.data(id, 'from new york');
    newYork.peer!.end(id);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('from new york');
  });

  it('does not send a POST again when the replica that received it failed; a GET goes to the next one', async () => {
    const paris = await node(PARIS, unique('rep'));
    const newYork = await node(NEW_YORK, unique('rep'));
    const ep = await endpoint({ public: true, replicas: [{ replica: paris }, { replica: newYork }] });
    const post = request(`/e/${ep.id}/v1/completions`, { method: 'POST', body: '{}', from: PARIS });
    const first = await paris.peer!.open(0);
    paris.peer!.sendReset(first.id, 'replica_failed', 'connection reset by the server');
    const res = await post;
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get('gridplane-tunnel-error')).toBeNull();
    expect(res.headers.get('gridplane-request-sent')).toBeNull();
    // The answer came after every attempt the gateway made: New York was never asked.
    expect(newYork.peer!.framesOf(FRAME.open)).toHaveLength(0);

    // Fresh replicas (Paris is out of this isolate's rotation now): the same failure on a GET moves on.
    const [paris2, newYork2] = await Promise.all([node(PARIS, unique('rep')), node(NEW_YORK, unique('rep'))]);
    const ep2 = await endpoint({ public: true, replicas: [{ replica: paris2 }, { replica: newYork2 }] });
    const get = request(`/e/${ep2.id}/v1/models`, { from: PARIS });
    const second = await paris2.peer!.open(0);
    paris2.peer!.sendReset(second.id, 'replica_failed', 'connection reset by the server');
    await answer(newYork2.peer!, 0, 200, 'models');
    const retried = await get;
    expect(retried.status).toBe(200);
    expect(await retried.text()).toBe('models');
  });
});

describe('endpoint URL: cold start', () => {
  it('answers 503 with Retry-After at once when no replica can start (here: the owner has no balance for one)', async () => {
    const ep = await endpoint({ public: true });
    const res = await request(`/e/${ep.id}/v1/models`);
    expect(res.headers.get('Retry-After')).toBe('30');
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'no_capacity' });
  });

  it('waits for a starting replica and sends the request once the table says it is ready', async () => {
    const tokyo = await node(TOKYO, unique('rep'));
    const ep = await endpoint({ public: true, replicas: [{ replica: tokyo, state: 'starting' }] });
    const pending = request(`/e/${ep.id}/v1/models`);
    // The request is waiting (the endpoint was woken: its last activity moves); then the replica becomes ready.
    const deadline = Date.now() + 10_000;
    const woken = () =>
      env.DB.prepare('SELECT last_active_at > created_at AS woken FROM endpoints WHERE id = ?').bind(ep.id).first<number>('woken');
    while (!(await woken())) {
      expect(Date.now(), 'the gateway never woke the endpoint').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await env.DB.prepare("UPDATE endpoint_replicas SET state = 'ready' WHERE id = ?").bind(tokyo.replicaId).run();
    await answer(tokyo.peer!, 0, 200, 'warm');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('warm');
  });
});

describe('endpoint URL: traffic', () => {
  it('adds its requests to endpoint_traffic by caller cell', async () => {
    const paris = await node(PARIS, unique('rep'));
    const ep = await endpoint({ public: true, replicas: [{ replica: paris }] });
    // Counts are flushed at most every few seconds per isolate, after a request: keep calling until they land.
    const deadline = Date.now() + 20_000;
    let n = 0;
    for (;;) {
      const pending = request(`/e/${ep.id}/x`, { from: PARIS });
      await answer(paris.peer!, n++);
      expect((await pending).status).toBe(200);
      const row = await env.DB.prepare('SELECT SUM(requests) AS requests, cell FROM endpoint_traffic WHERE endpoint_id = ? GROUP BY cell')
        .bind(ep.id)
        .first<{ requests: number; cell: string }>();
      if (row) {
        expect(row.cell).toBe('27:36');
        expect(row.requests).toBeGreaterThanOrEqual(1);
        expect(row.requests).toBeLessThanOrEqual(n);
        break;
      }
      expect(Date.now(), 'traffic never reached D1').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  });
});
