import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { desiredSetOf } from '../../workers/endpoints/node-replicas.ts';
import { tunnelFor } from '../../workers/tunnel/tunnel-stub.ts';
import { call, errorOf, registeredAgent, registration } from './helpers/agent.ts';
import { json, newRenter } from './helpers/jobs.ts';
import { connectTunnel, spec } from './helpers/tunnel.ts';

// An endpoint's `pathPrefix` (issue 15: a notebook or shell behind the edge URL): `strip` gives the
// replica the path after /e/{id}, `keep` the whole /e/{id}/… path, and every replica learns its
// public base path as GRIDPLANE_BASE_PATH. Real app, real NodeTunnel objects, real D1; the test
// plays the node's agent over the signed tunnel WebSocket.

const body = (overrides: Record<string, unknown> = {}) => ({
  name: 'notebook',
  image: 'python:3.12-slim',
  port: 8888,
  gpu: { count: 1 },
  replicas: { min: 0, max: 1 },
  regions: [{ lat: 48.86, lon: 2.34 }],
  maxPricePerGpuHour: '2.0',
  ...overrides,
});

const unique = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;

/** A public endpoint with one ready replica on an online node whose tunnel is open. */
async function endpointWithReplica(pathPrefix: 'strip' | 'keep') {
  const agent = await registeredAgent(registration({ location: { lat: 48.86, lon: 2.35, country: 'FR' } }));
  await env.DB.prepare("UPDATE nodes SET status = 'online' WHERE id = ?").bind(agent.nodeId).run();
  const replicaId = unique('rep');
  await tunnelFor(env, agent.nodeId).setReplicas([spec(replicaId)]);
  const peer = await connectTunnel(agent);
  const id = unique('ep');
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO endpoints (id, account_id, request_hash, name, image, env, port, health_path, gpu_count, min_replicas, max_replicas,
         max_price_per_gpu_hour, target_inflight, public, path_prefix, status, desired_replicas, last_active_at, created_at, updated_at)
       VALUES (?, ?, 'h', 'test', 'ghcr.io/example/server:1', '{"JUPYTER_TOKEN":"t"}', 8888, '/api', 1, 0, 1, 10000000, 4, 1, ?, 'active', 1, ?, ?, ?)`,
    ).bind(id, unique('acct'), pathPrefix, now, now, now),
    env.DB.prepare(
      `INSERT INTO endpoint_replicas (id, endpoint_id, node_id, generation, state, price_per_gpu_hour, gpu_count, placed_at, ready_since, updated_at)
       VALUES (?, ?, ?, 1, 'ready', 1000000, 1, ?, ?, ?)`,
    ).bind(replicaId, id, agent.nodeId, now, now, now),
  ]);
  return { id, nodeId: agent.nodeId, replicaId, peer };
}

/** The path the replica is asked for when a caller GETs `path` (the test answers 200). */
async function pathSeenByReplica(ep: Awaited<ReturnType<typeof endpointWithReplica>>, path: string): Promise<string> {
  const pending = call(new Request(`http://gridplane.test${path}`));
  const { id, open } = await ep.peer.open(0);
  ep.peer.head(id, 200, []);
  ep.peer.end(id);
  expect((await pending).status).toBe(200);
  return open.path;
}

describe('endpoint pathPrefix at the gateway', () => {
  it('keep: the replica gets the whole /e/{id}/… path and query; strip: the path after it', async () => {
    const keep = await endpointWithReplica('keep');
    expect(await pathSeenByReplica(keep, `/e/${keep.id}/lab/tree?token=t`)).toBe(`/e/${keep.id}/lab/tree?token=t`);
    const strip = await endpointWithReplica('strip');
    expect(await pathSeenByReplica(strip, `/e/${strip.id}/lab/tree?token=t`)).toBe('/lab/tree?token=t');
  });
});

describe('endpoint pathPrefix in the replica spec', () => {
  it('gives every replica GRIDPLANE_BASE_PATH; with keep its health path is under that base path', async () => {
    const keep = await endpointWithReplica('keep');
    const strip = await endpointWithReplica('strip');
    const [keepSpec] = (await desiredSetOf(endpointsContext(env), keep.nodeId)).filter((s) => s.replicaId === keep.replicaId);
    const [stripSpec] = (await desiredSetOf(endpointsContext(env), strip.nodeId)).filter((s) => s.replicaId === strip.replicaId);
    expect(keepSpec).toMatchObject({ healthPath: `/e/${keep.id}/api`, env: { JUPYTER_TOKEN: 't', GRIDPLANE_BASE_PATH: `/e/${keep.id}/` } });
    expect(stripSpec).toMatchObject({ healthPath: '/api', env: { JUPYTER_TOKEN: 't', GRIDPLANE_BASE_PATH: `/e/${strip.id}/` } });
  });
});

describe('endpoint pathPrefix in the API', () => {
  it('defaults to strip, takes keep, and a PATCH to it rolls the replicas over (new generation)', async () => {
    const renter = await newRenter();
    const plain = await json<Record<string, any>>(await renter.call('POST', '/v1/endpoints', body()), 201);
    expect(plain.pathPrefix).toBe('strip');
    const kept = await json<Record<string, any>>(await renter.call('POST', '/v1/endpoints', body({ pathPrefix: 'keep' })), 201);
    expect(kept.pathPrefix).toBe('keep');
    const patched = await json<Record<string, any>>(await renter.call('PATCH', `/v1/endpoints/${plain.id}`, { pathPrefix: 'keep' }), 200);
    expect(patched).toMatchObject({ pathPrefix: 'keep', generation: plain.generation + 1 });
    const row = await env.DB.prepare('SELECT path_prefix FROM endpoints WHERE id = ?').bind(plain.id).first<{ path_prefix: string }>();
    expect(row!.path_prefix).toBe('keep');
  });

  it('refuses an unknown pathPrefix and env names of its own (GRIDPLANE_…) with 400, creating nothing', async () => {
    const renter = await newRenter();
    expect(await errorOf(await renter.call('POST', '/v1/endpoints', body({ pathPrefix: 'full' })))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(await errorOf(await renter.call('POST', '/v1/endpoints', body({ env: { GRIDPLANE_BASE_PATH: '/x/' } })))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    const count = await env.DB.prepare('SELECT count(*) AS n FROM endpoints WHERE account_id = ?')
      .bind(renter.accountId)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
  });
});
