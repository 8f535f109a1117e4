import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, call, errorOf, heartbeat, newAgent, newKeyPair, registeredAgent, registration, signedRequest } from './helpers/agent.ts';

// Every class of bad input gets the protocol's error body, a 4xx, and changes nothing.

async function snapshot() {
  const [nodes, gpus, events] = await Promise.all([
    env.DB.prepare('SELECT * FROM nodes ORDER BY id').all(),
    env.DB.prepare('SELECT * FROM node_gpus ORDER BY node_id, model').all(),
    env.DB.prepare('SELECT * FROM node_events ORDER BY id').all(),
  ]);
  return JSON.stringify([nodes.results, gpus.results, events.results]);
}

async function expectRejectedRegistration(body: unknown, status: number, code: string, rawBody?: string) {
  const agent = await newAgent();
  const before = await snapshot();
  const res = await agent.send('POST', '/v1/nodes', body, rawBody === undefined ? {} : { rawBody });
  const error = await errorOf(res);
  expect(error).toMatchObject({ status, code });
  expect(error.message.length).toBeGreaterThan(10);
  expect(await snapshot()).toBe(before);
  return error;
}

describe('registration body validation', () => {
  it('rejects malformed JSON', async () => {
    await expectRejectedRegistration(undefined, 400, 'malformed_json', '{"owner": ');
    await expectRejectedRegistration(undefined, 400, 'malformed_json', '');
  });

  it('rejects wrong types and missing fields, naming the field', async () => {
    const e1 = await expectRejectedRegistration(registration({ name: 42 }), 400, 'invalid_request');
    expect(e1.message).toMatch(/^name:/);
    const { gpus: _gpus, ...withoutGpus } = registration();
    const e2 = await expectRejectedRegistration(withoutGpus, 400, 'invalid_request');
    expect(e2.message).toMatch(/^gpus:/);
    await expectRejectedRegistration(registration({ pricePerGpuHour: 1.25 }), 400, 'invalid_request');
    await expectRejectedRegistration([registration()], 400, 'invalid_request');
    await expectRejectedRegistration(registration({ extra: true }), 400, 'invalid_request');
  });

  it('rejects impossible GPU counts and VRAM', async () => {
    for (const count of [0, -1, 2.5, 2 ** 64 - 1, 65]) {
      const e = await expectRejectedRegistration(
        registration({ gpus: [{ model: 'RTX 4090', vramMb: 24564, count }] }),
        400,
        'invalid_request',
      );
      expect(e.message).toMatch(/gpus\[0\]\.count/);
    }
    await expectRejectedRegistration(registration({ gpus: [] }), 400, 'invalid_request');
    await expectRejectedRegistration(registration({ gpus: [{ model: 'RTX 4090', vramMb: 0, count: 1 }] }), 400, 'invalid_request');
    await expectRejectedRegistration(
      registration({
        gpus: [
          { model: 'A', vramMb: 1024, count: 40 },
          { model: 'B', vramMb: 1024, count: 40 },
        ],
      }),
      400,
      'invalid_request',
    );
  });

  it('rejects absurd coordinates and countries', async () => {
    for (const location of [
      { lat: 500, lon: 0, country: 'JP' },
      { lat: 0, lon: -181, country: 'JP' },
      { lat: '35', lon: 139, country: 'JP' },
      { lat: 35, lon: 139, country: 'Japan' },
      { lat: 35, lon: 139 },
    ]) {
      await expectRejectedRegistration(registration({ location }), 400, 'invalid_request');
    }
  });

  it('rejects bad prices and owners', async () => {
    for (const pricePerGpuHour of ['0', '-1', '1.2345678', 'abc', '99999999999999999', '']) {
      await expectRejectedRegistration(registration({ pricePerGpuHour }), 400, 'invalid_request');
    }
    await expectRejectedRegistration(registration({ owner: 'not-base58-0OIl' }), 400, 'invalid_request');
  });

  it('rejects bodies over 64 KiB with 413', async () => {
    const big = registration({ name: 'x'.repeat(70 * 1024) });
    await expectRejectedRegistration(big, 413, 'payload_too_large');
  });
});

describe('signature checks', () => {
  it('rejects unsigned requests', async () => {
    const before = await snapshot();
    const res = await api('/v1/nodes', {
      method: 'POST',
      body: JSON.stringify(registration()),
      headers: { 'content-type': 'application/json' },
    });
    expect(await errorOf(res)).toMatchObject({ status: 401, code: 'bad_signature' });
    const agent = await newAgent();
    const missingSig = await agent.send('POST', '/v1/nodes', registration(), { omitHeaders: ['X-Gridplane-Signature'] });
    expect(await errorOf(missingSig)).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(await snapshot()).toBe(before);
  });

  it('rejects a signature from another key, a tampered body, and a bad nonce', async () => {
    const before = await snapshot();
    const agent = await newAgent();
    const other = await newKeyPair();
    expect(await errorOf(await agent.send('POST', '/v1/nodes', registration(), { signWith: other }))).toMatchObject({
      status: 401,
      code: 'bad_signature',
    });
    const tampered = await agent.send('POST', '/v1/nodes', registration(), {
      tamper: (b) => new TextEncoder().encode(new TextDecoder().decode(b).replace('rig-1', 'rig-2')),
    });
    expect(await errorOf(tampered)).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(await errorOf(await agent.send('POST', '/v1/nodes', registration(), { nonce: 'short' }))).toMatchObject({
      status: 401,
      code: 'bad_signature',
    });
    expect(await errorOf(await agent.send('POST', '/v1/nodes', registration(), { headerNodeId: 'abc' }))).toMatchObject({
      status: 401,
      code: 'bad_signature',
    });
    expect(await snapshot()).toBe(before);
  });

  it('rejects a stale timestamp in either direction', async () => {
    const agent = await newAgent();
    for (const skew of [-301_000, 301_000]) {
      const res = await agent.send('POST', '/v1/nodes', registration(), { timestampMs: Date.now() + skew });
      expect(await errorOf(res)).toMatchObject({ status: 401, code: 'stale_request' });
    }
  });

  it('rejects a replayed nonce, for registration and for heartbeats', async () => {
    const agent = await newAgent();
    const req = await signedRequest(agent.keyPair, agent.nodeId, 'POST', '/v1/nodes', registration(), { nonce: 'replay-me-0123456789' });
    const copy = req.clone();
    expect((await call(req)).status).toBe(201);
    expect(await errorOf(await call(copy))).toMatchObject({ status: 401, code: 'replayed_request' });

    const hb = await signedRequest(agent.keyPair, agent.nodeId, 'POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat(), {
      nonce: 'heartbeat-nonce-00001',
    });
    const hbCopy = hb.clone();
    expect((await call(hb)).status).toBe(200);
    expect(await errorOf(await call(hbCopy))).toMatchObject({ status: 401, code: 'replayed_request' });
  });

  it('signs the query string too', async () => {
    const agent = await registeredAgent();
    const req = await signedRequest(agent.keyPair, agent.nodeId, 'POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat());
    const moved = new Request(`${req.url}?x=1`, req);
    expect(await errorOf(await call(moved))).toMatchObject({ status: 401, code: 'bad_signature' });
  });
});

describe('heartbeat body validation', () => {
  it('rejects malformed heartbeats without touching live state', async () => {
    const agent = await registeredAgent();
    const path = `/v1/nodes/${agent.nodeId}/heartbeat`;
    const bad = [
      heartbeat({ gpus: [{ index: 0, utilPct: 180, memUsedMb: 0, tempC: 50 }] }),
      heartbeat({ gpus: [{ index: -1, utilPct: 1, memUsedMb: 0, tempC: 50 }] }),
      heartbeat({ gpus: 'none' }),
      heartbeat({ probes: [{ target: 'NRT', rttMs: -3 }] }),
      heartbeat({ probes: [{ target: '../etc', rttMs: 3 }] }),
      { probes: [] },
    ];
    for (const body of bad) {
      expect(await errorOf(await agent.send('POST', path, body))).toMatchObject({ status: 400, code: 'invalid_request' });
    }
    expect(await errorOf(await agent.send('POST', path, undefined, { rawBody: 'nope' }))).toMatchObject({
      status: 400,
      code: 'malformed_json',
    });
    const node = (await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as any;
    expect(node.metrics.gpus).toEqual([]);
  });
});

describe('probe points', () => {
  const adminToken = env.ADMIN_TOKEN!;
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

  it('needs the admin token to change probes', async () => {
    const body = JSON.stringify({ lat: 35.76, lon: 140.39 });
    for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: adminToken }] as Record<
      string,
      string
    >[]) {
      const res = await api('/v1/admin/probes/NRT', { method: 'PUT', body, headers });
      expect(await errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    expect(await (await api('/v1/probes')).json()).toEqual([]);
  });

  it('creates, replaces, lists and deletes probes', async () => {
    const put = (id: string, body: unknown) => api(`/v1/admin/probes/${id}`, { method: 'PUT', body: JSON.stringify(body), headers: admin });
    expect((await put('NRT', { lat: 35.76, lon: 140.39, url: 'https://nrt.probe.example/ping' })).status).toBe(201);
    expect((await put('NRT', { lat: 35.77, lon: 140.39 })).status).toBe(200);
    expect((await put('CDG', { lat: 49.0, lon: 2.55 })).status).toBe(201);
    expect(await (await api('/v1/probes')).json()).toEqual([
      { id: 'CDG', lat: 49.0, lon: 2.55 },
      { id: 'NRT', lat: 35.77, lon: 140.39 },
    ]);
    expect(await errorOf(await put('BAD', { lat: 95, lon: 0 }))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await put('BAD', { lat: 5, lon: 0, url: 'ftp://x' }))).toMatchObject({ status: 400 });
    expect((await api('/v1/admin/probes/CDG', { method: 'DELETE', headers: admin })).status).toBe(204);
    expect(await errorOf(await api('/v1/admin/probes/CDG', { method: 'DELETE', headers: admin }))).toMatchObject({ status: 404 });
    expect(((await (await api('/v1/probes')).json()) as unknown[]).length).toBe(1);
  });
});

describe('the root', () => {
  it('answers health and says what it is', async () => {
    expect((await api('/health')).status).toBe(200);
    const home = (await (await api('/')).json()) as any;
    expect(home.name).toBe('gridplane');
    expect(home.links.nodes).toBe('/v1/nodes');
    expect(await errorOf(await api('/nope'))).toMatchObject({ status: 404, code: 'not_found' });
  });
});
