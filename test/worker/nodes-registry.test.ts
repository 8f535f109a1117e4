import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, errorOf, heartbeat, newAgent, registeredAgent, registration } from './helpers/agent.ts';

const countNodes = async () => (await env.DB.prepare('SELECT count(*) AS n FROM nodes').first<{ n: number }>())!.n;

describe('node registration', () => {
  it('creates a node with 201, then updates it with 200', async () => {
    const agent = await newAgent();
    const first = await agent.send('POST', '/v1/nodes', registration());
    expect(first.status).toBe(201);
    const node = (await first.json()) as Record<string, any>;
    expect(node).toMatchObject({
      id: agent.nodeId,
      owner: registration().owner,
      name: 'rig-1',
      status: 'online',
      simulated: false,
      location: { lat: 35.68, lon: 139.69, country: 'JP' },
      pricePerGpuHour: '1.250000',
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 }],
    });

    const again = await agent.send('POST', '/v1/nodes', registration({ name: 'rig-renamed', pricePerGpuHour: '2' }));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: agent.nodeId, name: 'rig-renamed', pricePerGpuHour: '2.000000' });

    const events = await env.DB.prepare("SELECT kind FROM node_events WHERE node_id = ? AND kind = 'registered'").bind(agent.nodeId).all();
    expect(events.results).toHaveLength(1);
  });

  it('marks simulated GPUs as simulated on the node and on each GPU', async () => {
    const agent = await newAgent();
    const res = await agent.send(
      'POST',
      '/v1/nodes',
      registration({ gpus: [{ model: 'RTX 4090', vramMb: 24564, count: 2, simulated: true }] }),
    );
    expect(res.status).toBe(201);
    const node = (await res.json()) as Record<string, any>;
    expect(node.simulated).toBe(true);
    expect(node.gpus[0].simulated).toBe(true);
    const listed = (await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as Record<string, any>;
    expect(listed.simulated).toBe(true);
  });

  it('refuses to move a node to another owner', async () => {
    const agent = await registeredAgent();
    const res = await agent.send('POST', '/v1/nodes', registration({ owner: '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM' }));
    expect(await errorOf(res)).toMatchObject({ status: 409, code: 'owner_mismatch' });
    const node = (await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as Record<string, any>;
    expect(node.owner).toBe(registration().owner);
  });
});

describe('heartbeats', () => {
  it('answers with the interval and no jobs, and the detail shows live metrics', async () => {
    const agent = await registeredAgent();
    const res = await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ nextHeartbeatS: 10, jobs: [] });
    const node = (await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as Record<string, any>;
    expect(node.status).toBe('online');
    expect(node.metrics.gpus[0]).toMatchObject({ index: 0, utilPct: 12, tempC: 54 });
    expect(node.metrics.probes).toEqual([{ target: 'NRT', rttMs: 3.2 }]);
  });

  it('does not write to D1 on a routine heartbeat', async () => {
    const agent = await registeredAgent();
    const before = await env.DB.prepare('SELECT last_seen_at, online_ms FROM nodes WHERE id = ?').bind(agent.nodeId).first();
    for (let i = 0; i < 5; i++) {
      expect((await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    }
    const after = await env.DB.prepare('SELECT last_seen_at, online_ms FROM nodes WHERE id = ?').bind(agent.nodeId).first();
    expect(after).toEqual(before);
  });

  it('refuses a heartbeat for an unregistered node with 404', async () => {
    const agent = await newAgent();
    const res = await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat());
    expect(await errorOf(res)).toMatchObject({ status: 404, code: 'node_not_found' });
  });

  it('refuses a heartbeat signed by another node with 403', async () => {
    const victim = await registeredAgent();
    const attacker = await registeredAgent();
    const res = await attacker.send('POST', `/v1/nodes/${victim.nodeId}/heartbeat`, heartbeat());
    expect(await errorOf(res)).toMatchObject({ status: 403, code: 'wrong_node' });
  });
});

describe('node list and detail', () => {
  it('filters by status, GPU and country and pages with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const agent = await registeredAgent({
        name: `list-${i}`,
        location: { lat: 48.85, lon: 2.35, country: 'FR' },
        gpus: [{ model: i % 2 === 0 ? 'NVIDIA H100 80GB HBM3' : 'NVIDIA GeForce RTX 3090', vramMb: 81559, count: 1 }],
      });
      ids.push(agent.nodeId);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(`/v1/nodes?country=FR&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { nodes: { id: string }[]; nextCursor: string | null };
      expect(page.nodes.length).toBeLessThanOrEqual(2);
      seen.push(...page.nodes.map((n) => n.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());

    const h100 = (await (await api('/v1/nodes?country=FR&gpu=h100%2080gb')).json()) as { nodes: { id: string }[] };
    expect(h100.nodes.map((n) => n.id).sort()).toEqual([ids[0], ids[2], ids[4]].sort());
    const online = (await (await api('/v1/nodes?country=FR&status=offline')).json()) as { nodes: unknown[] };
    expect(online.nodes).toHaveLength(0);
  });

  it('answers 404 for an unknown node and 400 for a malformed id or filter', async () => {
    const stranger = await newAgent();
    expect(await errorOf(await api(`/v1/nodes/${stranger.nodeId}`))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await errorOf(await api('/v1/nodes/not-a-node-id'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await api('/v1/nodes?status=sleeping'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await api('/v1/nodes?limit=100000'))).toMatchObject({ status: 400 });
    expect(await errorOf(await api('/v1/nodes?cursor=%%%'))).toMatchObject({ status: 400 });
  });
});

describe('liveness', () => {
  const sweepAt = (scheduledTime: number) =>
    (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
      cron: '* * * * *',
      scheduledTime,
    });

  it('marks a silent node offline after three intervals, records both transitions, and brings it back', async () => {
    const agent = await registeredAgent();
    expect((await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat())).status).toBe(200);

    // Two intervals of silence: still online.
    await sweepAt(Date.now() + 20_000);
    expect(((await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as any).status).toBe('online');

    // Past three intervals (HEARTBEAT_INTERVAL_S=10 in tests): offline, in D1 too.
    const sweptAt = Date.now() + 31_000;
    await sweepAt(sweptAt);
    const row = await env.DB.prepare('SELECT status FROM nodes WHERE id = ?').bind(agent.nodeId).first<{ status: string }>();
    expect(row!.status).toBe('offline');
    const offline = await env.DB.prepare("SELECT at FROM node_events WHERE node_id = ? AND kind = 'offline'")
      .bind(agent.nodeId)
      .first<{ at: number }>();
    expect(offline!.at).toBe(sweptAt);
    const listed = (await (await api('/v1/nodes?status=offline')).json()) as { nodes: { id: string }[] };
    expect(listed.nodes.map((n) => n.id)).toContain(agent.nodeId);

    // It comes back: online again, with an `online` event once the shard flushes.
    expect((await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    expect(((await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as any).status).toBe('online');
    await sweepAt(Date.now());
    const back = await env.DB.prepare("SELECT count(*) AS n FROM node_events WHERE node_id = ? AND kind = 'online'")
      .bind(agent.nodeId)
      .first<{ n: number }>();
    expect(back!.n).toBe(1);
    const status = await env.DB.prepare('SELECT status FROM nodes WHERE id = ?').bind(agent.nodeId).first<{ status: string }>();
    expect(status!.status).toBe('online');
  });

  it('counts uptime from server receive times only', async () => {
    const agent = await registeredAgent();
    const hb = (ts: number) => agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat(), { timestampMs: ts });
    // A timestamp the agent claims far in the past but within the freshness window changes nothing.
    expect((await hb(Date.now() - 250_000)).status).toBe(200);
    const node = (await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as any;
    expect(node.uptime.onlineSeconds).toBeLessThan(5);
    expect(await countNodes()).toBeGreaterThan(0);
  });
});

describe('shard counters', () => {
  it('counts heartbeats and what folding cost D1, for admins only', async () => {
    expect((await api('/v1/admin/shards')).status).toBe(401);
    const read = async () =>
      (
        (await (await api('/v1/admin/shards', { headers: { authorization: `Bearer ${env.ADMIN_TOKEN!}` } })).json()) as {
          totals: Record<string, number>;
        }
      ).totals;
    // Earlier tests leave status changes that their shard flushes about a second later; under
    // load that lands inside this test's window. Fold everything first, so nothing is pending.
    expect((await api('/v1/admin/shards/fold', { method: 'POST', headers: { authorization: `Bearer ${env.ADMIN_TOKEN!}` } })).status).toBe(
      200,
    );
    const before = await read();
    const agent = await registeredAgent();
    for (let i = 0; i < 3; i++) await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat());
    const mid = await read();
    expect((mid.heartbeats ?? 0) - (before.heartbeats ?? 0)).toBe(3);
    expect(mid.d1_rows_written ?? 0).toBe(before.d1_rows_written ?? 0);
    // The minute cron only flushes status changes; routine liveness waits for the fold.
    await (exports.default as unknown as { scheduled(c: object): Promise<void> }).scheduled({
      cron: '* * * * *',
      scheduledTime: Date.now(),
    });
    expect((await read()).d1_rows_written ?? 0).toBe(mid.d1_rows_written ?? 0);
    const fold = await api('/v1/admin/shards/fold', { method: 'POST', headers: { authorization: `Bearer ${env.ADMIN_TOKEN!}` } });
    expect(fold.status).toBe(200);
    const after = await read();
    // The fold wrote this node's live row once, whatever the number of heartbeats.
    expect((after.d1_rows_written ?? 0) - (mid.d1_rows_written ?? 0)).toBeGreaterThanOrEqual(1);
    const row = await env.DB.prepare('SELECT online_ms, last_seen_at FROM nodes WHERE id = ?')
      .bind(agent.nodeId)
      .first<{ last_seen_at: number }>();
    const live = (await (await api(`/v1/nodes/${agent.nodeId}`)).json()) as { lastSeenAt: string };
    expect(row!.last_seen_at).toBe(Date.parse(live.lastSeenAt));
    expect((after.d1_queries ?? 0) - (mid.d1_queries ?? 0)).toBeLessThanOrEqual(2 * 4);
  });
});
