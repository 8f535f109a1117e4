import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../../db/schema.ts';
import type { Db } from '../../workers/app-env.ts';
import { getBalance } from '../../workers/ledger/ledger.repo.ts';
import { reconcileLedger } from '../../workers/ledger/reconcile.ts';
import { api, heartbeat, signedRequest } from './helpers/agent.ts';
import { json, jobBody, newRenter, nodeAt, readyNode, sendEvent } from './helpers/jobs.ts';
import { authed, devAccount, ownedNode, verifyNode } from './helpers/staking.ts';

// The whole life of a job against real D1 and real shard DOs: quote, submission, delivery by
// heartbeat and by the WebSocket stream, agent events, logs, the bill, and the ledger after it.

const db = drizzle(env.DB, { schema }) as Db;

describe('quotes', () => {
  it('ranks the nearer node first and reports estRttMs, score and rows read', async () => {
    const paris = await nodeAt(48.86, 2.34, 'FR', { name: 'paris' });
    const tokyo = await nodeAt(35.68, 139.69, 'JP', { name: 'tokyo' });
    const res = await api('/v1/quotes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gpu: { model: 'rtx4090', count: 1 }, durationS: 3600, client: { lat: 48.85, lon: 2.35 } }),
    });
    const body = await json(res, 200);
    const ids = body.candidates.map((c: { nodeId: string }) => c.nodeId);
    expect(ids.indexOf(paris.nodeId)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(paris.nodeId)).toBeLessThan(ids.indexOf(tokyo.nodeId));
    const first = body.candidates[0];
    expect(first).toMatchObject({ nodeId: paris.nodeId, pricePerGpuHour: '1.250000', location: { lat: 48.86, lon: 2.34 } });
    expect(first.estRttMs).toBeGreaterThan(0);
    expect(first.estRttMs).toBeLessThan(body.candidates[ids.indexOf(tokyo.nodeId)].estRttMs);
    expect(first.score).toBeGreaterThan(0);
    expect(Number(res.headers.get('X-Gridplane-Rows-Read'))).toBe(body.meta.rowsRead);
    expect(body.meta.rowsRead).toBeGreaterThan(0);
  });

  it('excludes nodes over the price cap, with too few GPUs, or the wrong model', async () => {
    const cheap = await nodeAt(-33.87, 151.21, 'AU', { pricePerGpuHour: '0.500000' });
    const dear = await nodeAt(-33.86, 151.2, 'AU', { pricePerGpuHour: '9.000000' });
    const quote = async (gpu: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      (
        await json(
          await api('/v1/quotes', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ gpu, durationS: 60, client: { lat: -33.87, lon: 151.21 }, ...extra }),
          }),
          200,
        )
      ).candidates.map((c: { nodeId: string }) => c.nodeId) as string[];
    const capped = await quote({ model: '4090', count: 1 }, { maxPricePerGpuHour: '1.00' });
    expect(capped).toContain(cheap.nodeId);
    expect(capped).not.toContain(dear.nodeId);
    expect(await quote({ model: '4090', count: 3 })).not.toContain(cheap.nodeId);
    expect(await quote({ model: 'H100', count: 1 })).not.toContain(cheap.nodeId);
  });

  it('offers only eligible nodes: unverified, unstaked or under-staked nodes get no quote and no job', async () => {
    const at = { location: { lat: 30.04, lon: 31.24, country: 'EG' } };
    const ready = await readyNode(at);
    const owner = await devAccount(1000);
    const unverified = await ownedNode(owner, at);
    const unstaked = await ownedNode(owner, at);
    await verifyNode(unstaked);
    const underStaked = await ownedNode(owner, at);
    await verifyNode(underStaked);
    // 2 GPUs need 2 × 200 tokens by default; 399 is not enough.
    expect((await authed(owner, 'POST', '/v1/staking/stake', { nodeId: underStaked.nodeId, amount: '399' })).status).toBe(201);
    const ids = async () =>
      (
        await json(
          await api('/v1/quotes', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ gpu: { model: '4090', count: 1 }, durationS: 60, client: { lat: 30.0, lon: 31.2 } }),
          }),
          200,
        )
      ).candidates.map((c: { nodeId: string }) => c.nodeId) as string[];
    const offered = await ids();
    expect(offered).toContain(ready.nodeId);
    for (const node of [unverified, unstaked, underStaked]) expect(offered).not.toContain(node.nodeId);
    // The one more token makes it eligible at once; unstaking takes the ready node out at once.
    expect((await authed(owner, 'POST', '/v1/staking/stake', { nodeId: underStaked.nodeId, amount: '1' })).status).toBe(201);
    expect((await authed(ready.operator, 'POST', '/v1/staking/unstake', { nodeId: ready.nodeId, amount: '1' })).status).toBe(201);
    const after = await ids();
    expect(after).toContain(underStaked.nodeId);
    expect(after).not.toContain(ready.nodeId);
    const renter = await newRenter();
    const job = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 30.0, lon: 31.2 } })), 201);
    expect(job.nodeId).toBe(underStaked.nodeId);
  });

  it('scores stake from the node’s bonded stake: of two equal nodes the better-backed one ranks first', async () => {
    const at = { location: { lat: -41.29, lon: 174.78, country: 'NZ' } };
    const plain = await readyNode(at);
    const backed = await readyNode(at);
    const delegator = await devAccount(5000);
    expect((await authed(delegator, 'POST', '/v1/staking/delegate', { nodeId: backed.nodeId, amount: '4000' })).status).toBe(201);
    const body = await json(
      await api('/v1/quotes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ gpu: { model: '4090', count: 1 }, durationS: 60, client: { lat: -41.3, lon: 174.8 } }),
      }),
      200,
    );
    const [first, second] = body.candidates as { nodeId: string; score: number; estRttMs: number }[];
    expect([first!.nodeId, second!.nodeId]).toEqual([backed.nodeId, plain.nodeId]);
    expect(first!.estRttMs).toBe(second!.estRttMs);
    // Stake weighs 0.03 with its half point at 1,000 tokens: 4,400 vs 400 tokens bonded.
    expect(first!.score - second!.score).toBeCloseTo(0.03 * (4400 / 5400 - 400 / 1400), 5);
  });

  it('asks for a location when there is neither a client field nor an edge location', async () => {
    const res = await api('/v1/quotes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gpu: { count: 1 }, durationS: 60 }),
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('client_location_required');
  });
});

describe('a job from submission to bill', () => {
  it('runs on the nearest node, delivers by heartbeat, bills exactly and reconciles', async () => {
    const near = await nodeAt(50.11, 8.68, 'DE', { name: 'frankfurt', pricePerGpuHour: '1.800000' });
    await nodeAt(40.71, -74.0, 'US', { name: 'new-york', pricePerGpuHour: '1.800000' });
    const renter = await newRenter('100.000000');
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 600, client: { lat: 50.0, lon: 8.5 } })), 201);
    expect(created).toMatchObject({
      status: 'assigned',
      nodeId: near.nodeId,
      pricePerGpuHour: '1.800000',
      escrow: '0.300000',
      envNames: ['HF_TOKEN'],
    });
    expect(JSON.stringify(created)).not.toContain('hf_supersecretvalue');
    expect(await getBalance(db, renter.accountId)).toBe(99_700_000);

    // The heartbeat answer carries the assigned job, with its env, only to its node.
    const hb = await json(await near.send('POST', `/v1/nodes/${near.nodeId}/heartbeat`, heartbeat()), 200);
    expect(hb.jobs).toHaveLength(1);
    expect(hb.jobs[0]).toMatchObject({
      id: created.id,
      image: 'python:3.12-slim',
      env: { HF_TOKEN: 'hf_supersecretvalue' },
      gpus: { count: 1 },
    });

    const jobId = created.id as string;
    expect((await json(await sendEvent(near, jobId, { kind: 'accepted' }), 200)).status).toBe('starting');
    // Accepted jobs are no longer offered.
    expect(
      (await json(await near.send('POST', `/v1/nodes/${near.nodeId}/heartbeat`, heartbeat({ runningJobs: [jobId] })), 200)).jobs,
    ).toHaveLength(0);
    expect((await json(await sendEvent(near, jobId, { kind: 'started' }), 200)).status).toBe('running');
    await sendEvent(near, jobId, { kind: 'log', seq: 0, stream: 'stdout', data: 'hello\n' });
    await sendEvent(near, jobId, { kind: 'log', seq: 1, stream: 'stderr', data: 'token=hf_supersecretvalue\n' });
    const logs = await json(await renter.call('GET', `/v1/jobs/${jobId}/logs`), 200);
    expect(logs.logs.map((l: { data: string }) => l.data)).toEqual(['hello\n', 'token=[redacted]\n']);

    // The receipt claims 120 GPU-seconds; the server saw less than that, so it bills what it saw
    // (plus the clock grace). Use a receipt below the server bound for an exact figure.
    const job = await db.query.jobs.findFirst({ where: (j, { eq }) => eq(j.id, jobId) });
    const observedS = Math.ceil((Date.now() - job!.startedAt!) / 1000);
    const finished = await json(
      await sendEvent(near, jobId, { kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 1, runSeconds: 1 } }),
      200,
    );
    expect(finished.status).toBe('succeeded');
    expect(observedS).toBeGreaterThanOrEqual(0);

    // 1 GPU-second at 1.8 tokens/hour = 1_800_000 / 3600 = 500 base units; fee 10% = 50.
    const view = await json(await renter.call('GET', `/v1/jobs/${jobId}`), 200);
    expect(view.billing).toMatchObject({
      billedGpuSeconds: 1,
      captured: '0.000500',
      fee: '0.000050',
      operator: '0.000450',
      refunded: '0.299500',
    });
    expect(view.transitions.map((t: { to: string }) => t.to)).toEqual(['queued', 'assigned', 'starting', 'running', 'succeeded']);
    expect(view.transitions.map((t: { actor: string }) => t.actor)).toEqual([
      'renter',
      'system',
      `agent:${near.nodeId}`,
      `agent:${near.nodeId}`,
      `agent:${near.nodeId}`,
    ]);
    expect(await getBalance(db, renter.accountId)).toBe(100_000_000 - 500);
    expect(await getBalance(db, `escrow:${jobId}`)).toBe(0);
    // The operator staked all its faucet tokens; what it holds now is the job's pay.
    expect(await getBalance(db, near.operator.accountId)).toBe(450);
    expect((await reconcileLedger(db)).ok).toBe(true);

    // The GPU is free again, and the node's reputation went up (it was already at 1, it stays 1).
    expect(await env.DB.prepare('SELECT count(*) AS n FROM gpu_commitments WHERE job_id = ?').bind(jobId).first('n')).toBe(0);
  });

  it('pushes the job over the signed WebSocket stream the moment it is assigned', async () => {
    const node = await nodeAt(1.35, 103.82, 'SG', { name: 'singapore' });
    const request = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/stream`);
    request.headers.set('Upgrade', 'websocket');
    const res = await exports.default.fetch(request);
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const messages: Record<string, any>[] = [];
    ws.addEventListener('message', (e) => {
      messages.push(JSON.parse(e.data as string));
    });
    ws.accept();
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 1.3, lon: 103.8 } })), 201);
    expect(created.nodeId).toBe(node.nodeId);
    await expect.poll(() => messages.find((m) => m.type === 'job')?.job?.id, { timeout: 2000 }).toBe(created.id);
    // Cancelling pushes a stop.
    await json(await renter.call('POST', `/v1/jobs/${created.id}/cancel`), 200);
    await expect.poll(() => messages.find((m) => m.type === 'stop')?.jobId, { timeout: 2000 }).toBe(created.id);
    ws.close();
  });

  // How fast is a bench figure (`npm run bench`: job submitted → agent has it), never a test
  // assertion; this test pins that every job of a burst arrives over the stream, in order.
  it('pushes every job of a burst over the stream, each once and in submission order', async () => {
    const node = await nodeAt(-34.6, -58.38, 'AR', { gpus: [{ model: 'NVIDIA L40S', vramMb: 46068, count: 1 }] });
    const request = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/stream`);
    request.headers.set('Upgrade', 'websocket');
    const ws = (await exports.default.fetch(request)).webSocket!;
    const arrived: string[] = [];
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(e.data as string) as { type: string; job?: { id: string } };
      if (m.type === 'job' && m.job) arrived.push(m.job.id);
    });
    ws.accept();
    const renter = await newRenter();
    const submitted: string[] = [];
    for (let i = 0; i < 10; i++) {
      const job = await json(
        await renter.call('POST', '/v1/jobs', jobBody({ gpu: { model: 'L40S', count: 1 }, client: { lat: -34.6, lon: -58.4 } })),
        201,
      );
      submitted.push(job.id);
      await expect.poll(() => arrived.includes(job.id), { timeout: 10_000, interval: 5 }).toBe(true);
      await renter.call('POST', `/v1/jobs/${job.id}/cancel`);
    }
    expect(arrived.filter((id) => submitted.includes(id))).toEqual(submitted);
    ws.close();
  });

  it('refuses an unsigned stream and a stream for another node', async () => {
    const node = await nodeAt(1.35, 103.82, 'SG');
    const other = await nodeAt(1.36, 103.83, 'SG');
    const unsigned = await api(`/v1/nodes/${node.nodeId}/stream`, { headers: { Upgrade: 'websocket' } });
    expect(unsigned.status).toBe(401);
    const wrong = await signedRequest(other.keyPair, other.nodeId, 'GET', `/v1/nodes/${node.nodeId}/stream`);
    wrong.headers.set('Upgrade', 'websocket');
    expect((await exports.default.fetch(wrong)).status).toBe(403);
  });
});
