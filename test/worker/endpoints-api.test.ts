// Over 300 lines: one endpoint's life through every /v1/endpoints route, each step building on the last (create, keys, patch, the cron's desired set).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { hashEndpointKey } from '../../workers/endpoints/endpoint-keys.ts';
import { desiredSetOf } from '../../workers/endpoints/node-replicas.ts';
import { tendEndpoint } from '../../workers/endpoints/tend.ts';
import { api, call, errorOf } from './helpers/agent.ts';
import { json, newRenter, nodeAt, type Renter } from './helpers/jobs.ts';
import { balanceOf, expectLedgerReconciles, mintTo } from './helpers/ledger.ts';
import { getConfig } from '../../workers/config.ts';
import { formatAmount } from '../../workers/lib/amounts.ts';

// /v1/endpoints end to end in workerd against real D1: the routes, their validation at the
// boundary, idempotent create, keys (and the gateway refusing a revoked one), and a PATCH that
// the cron's tick turns into replicas in the nodes' desired sets.

const body = (overrides: Record<string, unknown> = {}) => ({
  name: 'llm',
  image: 'python:3.12-slim',
  command: ['python', '-m', 'http.server'],
  env: { HF_TOKEN: 'hf_secret' },
  port: 8000,
  gpu: { model: 'RTX 4090', count: 1 },
  replicas: { min: 0, max: 3 },
  regions: [{ lat: 48.86, lon: 2.34 }],
  maxPricePerGpuHour: '2.0',
  ...overrides,
});

async function rowsOf(accountId: string): Promise<Record<string, unknown>[]> {
  return (
    await env.DB.prepare('SELECT * FROM endpoints WHERE account_id = ?1 ORDER BY created_at').bind(accountId).all<Record<string, unknown>>()
  ).results;
}

async function holdsOf(endpointId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM ledger_transactions WHERE ref = ?1 AND kind = 'escrow_hold'")
    .bind(`endpoint:${endpointId}`)
    .first<{ n: number }>();
  return row!.n;
}

async function create(renter: Renter, overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return json<Record<string, any>>(await renter.call('POST', '/v1/endpoints', body(overrides), headers), 201);
}

describe('/v1/endpoints', () => {
  it('creates, lists, shows, changes and deletes an endpoint', async () => {
    const renter = await newRenter();
    const created = await create(renter);
    expect(created).toMatchObject({
      name: 'llm',
      url: `/e/${created.id}/`,
      status: 'active',
      image: 'python:3.12-slim',
      command: ['python', '-m', 'http.server'],
      envNames: ['HF_TOKEN'],
      port: 8000,
      healthPath: '/health',
      gpu: { count: 1, minVramMb: 0 },
      replicas: { min: 0, max: 3, desired: 0 },
      regions: [{ lat: 48.86, lon: 2.34 }],
      maxPricePerGpuHour: '2.000000',
      scaling: { targetInflight: 4, idleS: null },
      public: false,
      generation: 1,
    });
    expect(created.id).toMatch(/^ep_/);
    expect(JSON.stringify(created)).not.toContain('hf_secret');

    const second = await create(renter, { name: 'embedder' });
    const list = await json(await renter.call('GET', '/v1/endpoints'), 200);
    expect(list.endpoints.map((e: { id: string }) => e.id)).toEqual([second.id, created.id]);
    const page = await json(await renter.call('GET', '/v1/endpoints?limit=1'), 200);
    expect(page.endpoints.map((e: { id: string }) => e.id)).toEqual([second.id]);
    const rest = await json(await renter.call('GET', `/v1/endpoints?limit=1&cursor=${encodeURIComponent(page.nextCursor)}`), 200);
    expect(rest.endpoints.map((e: { id: string }) => e.id)).toEqual([created.id]);

    const shown = await json(await renter.call('GET', `/v1/endpoints/${created.id}`), 200);
    expect(shown).toMatchObject({
      id: created.id,
      replicaSet: [],
      traffic: { windowMinutes: 5, requests: 0, requestsPerMinute: 0, errors: 0, medianTtfbMs: null },
      hold: '0.000000',
    });

    const patched = await json(
      await renter.call('PATCH', `/v1/endpoints/${created.id}`, {
        replicas: { max: 5 },
        scaling: { targetInflight: 8, idleS: 600 },
        public: true,
        image: 'python:3.13-slim',
      }),
      200,
    );
    expect(patched).toMatchObject({
      replicas: { min: 0, max: 5 },
      scaling: { targetInflight: 8, idleS: 600 },
      public: true,
      image: 'python:3.13-slim',
      generation: 2,
    });

    const deleted = await json(await renter.call('DELETE', `/v1/endpoints/${created.id}`), 200);
    expect(deleted).toMatchObject({ id: created.id, status: 'deleted', replicas: { desired: 0 } });
    // Deleted: out of the list, still readable for its record, no more changes or keys.
    const after = await json(await renter.call('GET', '/v1/endpoints'), 200);
    expect(after.endpoints.map((e: { id: string }) => e.id)).toEqual([second.id]);
    expect((await json(await renter.call('GET', `/v1/endpoints/${created.id}`), 200)).status).toBe('deleted');
    expect(await errorOf(await renter.call('PATCH', `/v1/endpoints/${created.id}`, { public: false }))).toMatchObject({
      status: 404,
      code: 'endpoint_not_found',
    });
    expect(await errorOf(await renter.call('POST', `/v1/endpoints/${created.id}/keys`, {}))).toMatchObject({
      status: 409,
      code: 'endpoint_deleted',
    });
    // DELETE again answers the same deleted endpoint (a retry is safe).
    expect((await json(await renter.call('DELETE', `/v1/endpoints/${created.id}`), 200)).status).toBe('deleted');
  });

  it("refuses bad input with the protocol's error body and changes nothing", async () => {
    const renter = await newRenter();
    const cases: [unknown, number, string, RegExp?][] = [
      [body({ port: 0 }), 400, 'invalid_request', /^port: /],
      [body({ replicas: { min: 3, max: 1 } }), 400, 'invalid_request', /^replicas: replicas.min must be at most replicas.max/],
      [body({ surprise: 1 }), 400, 'invalid_request', /^body: /],
      [body({ image: 'not an image!' }), 400, 'invalid_request', /^image: /],
      [body({ healthPath: 'health' }), 400, 'invalid_request', /^healthPath: /],
      [body({ regions: [{ lat: 91, lon: 0 }] }), 400, 'invalid_request', /^regions\[0\]\.lat: /],
      [body({ maxPricePerGpuHour: 'cheap' }), 400, 'invalid_request', /^maxPricePerGpuHour: /],
      [body({ maxPricePerGpuHour: '0' }), 400, 'invalid_request', /^maxPricePerGpuHour: must be more than 0/],
      [body({ scaling: { idleS: 5 } }), 400, 'invalid_request', /^scaling.idleS: /],
    ];
    for (const [input, status, code, message] of cases) {
      const error = await errorOf(await renter.call('POST', '/v1/endpoints', input));
      expect(error, JSON.stringify(input)).toMatchObject({ status, code });
      if (message) expect(error.message).toMatch(message);
    }
    const raw = (text: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      api('/v1/endpoints', { method: 'POST', headers: { authorization: `Bearer ${renter.apiKey}`, ...headers }, body: text });
    expect(await errorOf(await raw('{"name":'))).toMatchObject({ status: 400, code: 'malformed_json' });
    expect(await errorOf(await raw(''))).toMatchObject({ status: 400, code: 'malformed_json' });
    expect(await errorOf(await raw(JSON.stringify(body()), { 'content-type': 'text/plain' }))).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
    });
    expect(await errorOf(await raw(JSON.stringify(body({ env: { BIG: 'x'.repeat(70_000) } }))))).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    expect(await errorOf(await renter.call('POST', '/v1/endpoints', body(), { 'Idempotency-Key': 'has space' }))).toMatchObject({
      status: 400,
      code: 'invalid_idempotency_key',
    });
    expect(
      await errorOf(
        await api('/v1/endpoints', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body()) }),
      ),
    ).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await errorOf(await renter.call('GET', '/v1/endpoints?limit=0'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await rowsOf(renter.accountId)).toEqual([]);

    // A PATCH that fails validation leaves the row as it was.
    const created = await create(renter);
    const before = await rowsOf(renter.accountId);
    const patches: [unknown, RegExp][] = [
      [{}, /^body: nothing to change/],
      [{ replicas: { min: 9, max: 40 } }, /^replicas.max: /],
      [{ replicas: { min: 4 } }, /^replicas: min must be at most max/],
      [{ status: 'stopped' }, /^status: /],
      [{ public: 'yes' }, /^public: /],
      [{ gpu: { count: 2 } }, /^body: /],
    ];
    for (const [patch, message] of patches) {
      const error = await errorOf(await renter.call('PATCH', `/v1/endpoints/${created.id}`, patch));
      expect(error, JSON.stringify(patch)).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(error.message).toMatch(message);
    }
    expect(await errorOf(await renter.call('DELETE', `/v1/endpoints/${created.id}/keys/not-a-key`))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(await rowsOf(renter.accountId)).toEqual(before);
  });

  it('refuses a create the balance cannot fund the first hold for (402 insufficient_funds) and changes nothing', async () => {
    await nodeAt(48.86, 2.34, 'FR');
    const { ENDPOINT_HOLD_AHEAD_S: holdAhead, TOKEN_DECIMALS: decimals } = getConfig(env);
    const price = 2 * 10 ** decimals; // maxPricePerGpuHour '2.0'
    // The first tick places max(min, 1) replicas and holds ENDPOINT_HOLD_AHEAD_S of their price
    // cap: 2 replicas × 2 GPUs × 2 tokens per GPU-hour here, rounded up to the base unit.
    const twoByTwo = { gpu: { model: 'RTX 4090', count: 2 }, replicas: { min: 2, max: 3 } };
    const firstHold = Math.ceil((2 * 2 * price * holdAhead) / 3600);
    const renter = await newRenter(formatAmount(firstHold - 1, decimals));
    // min 0 still places one replica at the first tick (scaling.ts): its hold is asked for too.
    const oneReplica = Math.ceil((price * holdAhead) / 3600);
    const poor = await newRenter(formatAmount(oneReplica - 1, decimals));
    const headers = { 'Idempotency-Key': 'short-1' };
    const ledgerRows = async () => (await env.DB.prepare('SELECT count(*) AS n FROM ledger_transactions').first<{ n: number }>())!.n;
    const txsBefore = await ledgerRows();
    const refused = await errorOf(await renter.call('POST', '/v1/endpoints', body(twoByTwo), headers));
    expect(refused).toMatchObject({ status: 402, code: 'insufficient_funds' });
    expect(refused.message).toContain(formatAmount(firstHold, decimals));
    expect(await errorOf(await poor.call('POST', '/v1/endpoints', body({ replicas: { min: 0, max: 3 } })))).toMatchObject({
      status: 402,
      code: 'insufficient_funds',
    });
    expect(await rowsOf(renter.accountId)).toEqual([]);
    expect(await rowsOf(poor.accountId)).toEqual([]);
    expect(await balanceOf(renter.accountId)).toBe(firstHold - 1);
    expect(await ledgerRows()).toBe(txsBefore);

    // One base unit more funds it; the first tick holds it all, and a retry under the same key
    // still answers the endpoint it made (a replay is not a new create), not 402.
    await mintTo(renter.accountId, 1);
    const created = await json<Record<string, any>>(await renter.call('POST', '/v1/endpoints', body(twoByTwo), headers), 201);
    await tendEndpoint(endpointsContext(env), created.id, Date.now());
    expect(await balanceOf(`escrow:${created.id}`)).toBe(firstHold);
    expect(await balanceOf(renter.accountId)).toBe(0);
    const again = await renter.call('POST', '/v1/endpoints', body(twoByTwo), headers);
    expect(again.status).toBe(200);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    // A new create with nothing left is refused.
    expect(await errorOf(await renter.call('POST', '/v1/endpoints', body(twoByTwo)))).toMatchObject({
      status: 402,
      code: 'insufficient_funds',
    });
    expect(await rowsOf(renter.accountId)).toHaveLength(1);
    await expectLedgerReconciles();
  });

  it("answers 404 for another account's endpoint, on every route, and changes nothing", async () => {
    const owner = await newRenter();
    const stranger = await newRenter();
    const created = await create(owner);
    const before = await rowsOf(owner.accountId);
    for (const [method, path, input] of [
      ['GET', `/v1/endpoints/${created.id}`, undefined],
      ['PATCH', `/v1/endpoints/${created.id}`, { public: true }],
      ['DELETE', `/v1/endpoints/${created.id}`, undefined],
      ['POST', `/v1/endpoints/${created.id}/keys`, {}],
      ['GET', `/v1/endpoints/${created.id}/keys`, undefined],
      ['GET', '/v1/endpoints/ep_doesnotexist', undefined],
    ] as const) {
      expect(await errorOf(await stranger.call(method, path, input)), `${method} ${path}`).toMatchObject({
        status: 404,
        code: 'endpoint_not_found',
      });
    }
    expect((await json(await stranger.call('GET', '/v1/endpoints'), 200)).endpoints).toEqual([]);
    expect(await rowsOf(owner.accountId)).toEqual(before);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM endpoint_keys WHERE endpoint_id = ?1').bind(created.id).first()).toEqual({
      n: 0,
    });
  });

  it('is idempotent: the same Idempotency-Key answers the same endpoint, makes one, and it gets one hold', async () => {
    await nodeAt(48.86, 2.34, 'FR');
    const renter = await newRenter();
    const headers = { 'Idempotency-Key': 'deploy-1' };
    const first = await renter.call('POST', '/v1/endpoints', body({ replicas: { min: 1, max: 1 } }), headers);
    expect(first.status).toBe(201);
    const a = await first.json<Record<string, unknown>>();
    const again = await renter.call('POST', '/v1/endpoints', body({ replicas: { min: 1, max: 1 } }), headers);
    expect(again.status).toBe(200);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await again.json()).toEqual(a);
    // The same key with another request is refused; without a key each create is new.
    expect(await errorOf(await renter.call('POST', '/v1/endpoints', body({ replicas: { min: 1, max: 2 } }), headers))).toMatchObject({
      status: 409,
      code: 'idempotency_conflict',
    });
    // Keys are per account: another renter's "deploy-1" is its own.
    const other = await newRenter();
    expect((await other.call('POST', '/v1/endpoints', body(), headers)).status).toBe(201);
    expect(await rowsOf(renter.accountId)).toHaveLength(1);

    const id = a.id as string;
    await tendEndpoint(endpointsContext(env), id, Date.now());
    await tendEndpoint(endpointsContext(env), id, Date.now() + 1_000);
    expect(await holdsOf(id)).toBe(1);
    const detail = await json(await renter.call('GET', `/v1/endpoints/${id}`), 200);
    expect(detail.replicaSet).toHaveLength(1);
    expect(Number(detail.hold)).toBeGreaterThan(0);
    expect(await balanceOf(`escrow:${id}`)).toBe(Math.round(Number(detail.hold) * 1e6));
    await expectLedgerReconciles();
  });

  it('a retry through another edge location is the same request: same endpoint, placed where the first came from', async () => {
    const renter = await newRenter();
    const { regions: _, ...noRegions } = body();
    const from = (latitude: string, longitude: string) =>
      call(
        new Request('http://gridplane.test/v1/endpoints', {
          method: 'POST',
          headers: { authorization: `Bearer ${renter.apiKey}`, 'content-type': 'application/json', 'Idempotency-Key': 'edge-retry' },
          body: JSON.stringify(noRegions),
          cf: { latitude, longitude },
        } as RequestInit),
      );
    const first = await json(await from('48.86', '2.34'), 201);
    expect(first.regions).toEqual([{ lat: 48.86, lon: 2.34 }]);
    const retry = await from('50.11', '8.68');
    expect(retry.status).toBe(200);
    expect(await retry.json<{ id: string; regions: unknown }>()).toMatchObject({ id: first.id, regions: [{ lat: 48.86, lon: 2.34 }] });
    expect(await rowsOf(renter.accountId)).toHaveLength(1);
  });

  it('creates keys shown once and stored hashed, lists and revokes them; the URL refuses a revoked key', async () => {
    const renter = await newRenter();
    // A price cap no node meets: a request with a good key finds nothing to start (503), a bad one is 401.
    const created = await create(renter, { maxPricePerGpuHour: '0.000001' });
    const made = await json(await renter.call('POST', `/v1/endpoints/${created.id}/keys`, { name: 'ci' }), 201);
    expect(made.key).toMatch(/^gpe_[A-Za-z0-9_-]{43}$/);
    expect(made).toMatchObject({ id: made.key.slice(0, 12), name: 'ci', revokedAt: null });
    const stored = await env.DB.prepare('SELECT hash, prefix FROM endpoint_keys WHERE endpoint_id = ?1').bind(created.id).all();
    expect(stored.results).toEqual([{ hash: await hashEndpointKey(made.key), prefix: made.id }]);
    expect(JSON.stringify(stored.results)).not.toContain(made.key);

    const second = await json(await renter.call('POST', `/v1/endpoints/${created.id}/keys`, {}), 201);
    expect(second.name).toBe('default');
    const listed = await json(await renter.call('GET', `/v1/endpoints/${created.id}/keys`), 200);
    expect(listed.keys.map((k: { id: string }) => k.id)).toEqual([made.id, second.id]);
    expect(JSON.stringify(listed)).not.toContain(made.key);

    const gateway = (key: string) =>
      call(new Request(`http://gridplane.test/e/${created.id}/v1/models`, { headers: { authorization: `Bearer ${key}` } }));
    expect((await gateway(made.key)).status).toBe(503);
    expect(await errorOf(await gateway(`gpe_${'x'.repeat(43)}`))).toMatchObject({ status: 401, code: 'unauthorized' });

    const revoked = await json(await renter.call('DELETE', `/v1/endpoints/${created.id}/keys/${made.id}`), 200);
    expect(revoked.id).toBe(made.id);
    expect(revoked.revokedAt).not.toBeNull();
    expect((await json(await renter.call('GET', `/v1/endpoints/${created.id}/keys`), 200)).keys.map((k: { id: string }) => k.id)).toEqual([
      second.id,
    ]);
    expect(await errorOf(await renter.call('DELETE', `/v1/endpoints/${created.id}/keys/${made.id}`))).toMatchObject({
      status: 404,
      code: 'key_not_found',
    });
    // The gateway refreshes its cached entry within ~2 s (workers/gateway/README.md): poll until it refuses.
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await gateway(made.key)).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status, 'the revoked key still opened the endpoint').toBe(401);
    expect((await gateway(second.key)).status).toBe(503);
  });

  it("a PATCH that scales up reaches the nodes' desired sets at the next cron tick, and back down", async () => {
    const nodes = [await nodeAt(40.42, -3.7, 'ES'), await nodeAt(40.41, -3.71, 'ES')];
    const renter = await newRenter();
    const created = await create(renter, { regions: [{ lat: 40.42, lon: -3.7 }], maxPricePerGpuHour: '1.5' });
    const ctx = () => endpointsContext(env);
    const t0 = Date.now();
    // min 0 without an idle time: an endpoint in use keeps one replica (scaling.ts).
    expect(await tendEndpoint(ctx(), created.id, t0)).toMatchObject({ placed: 1, desired: 1 });

    await json(await renter.call('PATCH', `/v1/endpoints/${created.id}`, { replicas: { min: 2 } }), 200);
    expect(await tendEndpoint(ctx(), created.id, t0 + 1_000)).toMatchObject({ placed: 1, desired: 2 });
    const detail = await json(await renter.call('GET', `/v1/endpoints/${created.id}`), 200);
    expect(detail.replicas).toEqual({ min: 2, max: 3, desired: 2 });
    expect(detail.replicaSet.map((r: { nodeId: string }) => r.nodeId).sort()).toEqual(nodes.map((n) => n.nodeId).sort());
    for (const r of detail.replicaSet)
      expect(r).toMatchObject({ state: 'placed', ready: false, location: { country: 'ES' }, pricePerGpuHour: '1.250000' });
    for (const n of nodes) {
      const specs = await desiredSetOf(ctx(), n.nodeId);
      expect(specs.filter((s) => s.endpointId === created.id).map((s) => s.replicaId)).toHaveLength(1);
    }

    await json(await renter.call('PATCH', `/v1/endpoints/${created.id}`, { replicas: { min: 1, max: 1 } }), 200);
    expect(await tendEndpoint(ctx(), created.id, t0 + 2_000)).toMatchObject({ stopped: 1, desired: 1 });
    const left = (
      await Promise.all(nodes.map(async (n) => (await desiredSetOf(ctx(), n.nodeId)).filter((s) => s.endpointId === created.id)))
    ).flat();
    expect(left).toHaveLength(1);
  });
});
