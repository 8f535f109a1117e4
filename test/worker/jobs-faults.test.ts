import { env, exports } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import type { Db } from '../../workers/app-env.ts';
import { getBalance } from '../../workers/ledger/ledger.repo.ts';
import { reconcileLedger } from '../../workers/ledger/reconcile.ts';
import { untilClockPasses } from '../support/clock.ts';
import { heartbeat } from './helpers/agent.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent } from './helpers/jobs.ts';

// Faults end in one consistent state with nothing billed twice: a missed acceptance deadline,
// a node that dies mid-job, every event duplicated, a cancel during start, a job past its
// duration, a race for the last GPU. Time moves through the cron's scheduledTime.

const db = drizzle(env.DB, { schema }) as Db;
const cron = (at: number) =>
  (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
    cron: '* * * * *',
    scheduledTime: at,
  });
const jobRow = (id: string) => db.query.jobs.findFirst({ where: (j, { eq }) => eq(j.id, id) });
const settlements = async (id: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM ledger_transactions WHERE idempotency_key = ?')
    .bind(`job:${id}:settle`)
    .first<number>('n')) ?? 0;
const slashesOf = async (nodeId: string) =>
  (
    await env.DB.prepare('SELECT offence, dedupe_key, evidence, amount, status FROM slashes WHERE node_id = ?')
      .bind(nodeId)
      .all<{ offence: string; dedupe_key: string; evidence: string; amount: number; status: string }>()
  ).results;
const reputation = async (nodeId: string) => (await db.query.nodes.findFirst({ where: (n, { eq }) => eq(n.id, nodeId) }))!.reputation;

async function expectReconciled(renterId: string, jobId: string, escrow: number, startBalance: number) {
  const job = (await jobRow(jobId))!;
  expect(job.captured! + job.refunded!).toBe(escrow);
  expect(await getBalance(db, `escrow:${jobId}`)).toBe(0);
  expect(await getBalance(db, renterId)).toBe(startBalance - job.captured!);
  expect(await settlements(jobId)).toBe(1);
  expect((await reconcileLedger(db)).ok).toBe(true);
}

describe('job faults', () => {
  it('moves a job the node did not accept in time to the next best node, and lowers the first node’s reputation', async () => {
    const first = await nodeAt(59.33, 18.06, 'SE', { name: 'stockholm' });
    const second = await nodeAt(60.17, 24.94, 'FI', { name: 'helsinki' });
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 59.3, lon: 18.0 } })), 201);
    expect(created.nodeId).toBe(first.nodeId);
    // The second node stays alive past the first one's deadline (offline after 3 × 10 s of silence):
    // the sweep runs 30 020 ms after the assignment, so its heartbeat must come 20 ms after it or later.
    const assignedAt = (await jobRow(created.id))!.assignedAt!;
    await untilClockPasses(assignedAt + 20);
    await second.send('POST', `/v1/nodes/${second.nodeId}/heartbeat`, heartbeat());
    await cron(assignedAt + 30_020);
    const moved = (await jobRow(created.id))!;
    expect(moved).toMatchObject({ status: 'assigned', nodeId: second.nodeId, attempts: 2 });
    expect(JSON.parse(moved.excludedNodes)).toEqual([first.nodeId]);
    expect(await reputation(first.nodeId)).toBeCloseTo(0.85, 6);
    // Nothing ran on it: a missed acceptance costs reputation, not stake.
    expect(await slashesOf(first.nodeId)).toEqual([]);
    // The first node's events are refused now; its heartbeat no longer offers the job.
    const late = await sendEvent(first, created.id, { kind: 'accepted' });
    expect(late.status).toBe(409);
    expect((await json(late)).error.code).toBe('job_not_assigned');
    const hb = await json(await first.send('POST', `/v1/nodes/${first.nodeId}/heartbeat`, heartbeat({ runningJobs: [created.id] })), 200);
    expect(hb.jobs).toEqual([]);
    expect(hb.stopJobs).toEqual([created.id]);
    const view = await json(await renter.call('GET', `/v1/jobs/${created.id}`), 200);
    expect(view.transitions.map((t: { from: string; to: string }) => `${t.from}>${t.to}`)).toEqual([
      'null>queued',
      'queued>assigned',
      'assigned>queued',
      'queued>assigned',
    ]);
    expect(view.transitions[2]).toMatchObject({ actor: 'system', reason: 'the node did not accept in time', nodeId: first.nodeId });
    expect(await env.DB.prepare('SELECT node_id FROM gpu_commitments WHERE job_id = ?').bind(created.id).first('node_id')).toBe(
      second.nodeId,
    );
  });

  it('fails a running job whose node goes offline, bills only until the node’s last heartbeat and refunds the rest', async () => {
    const node = await nodeAt(-23.55, -46.63, 'BR');
    const renter = await newRenter();
    const created = await json(
      await renter.call('POST', '/v1/jobs', jobBody({ durationS: 3600, client: { lat: -23.5, lon: -46.6 } })),
      201,
    );
    await sendEvent(node, created.id, { kind: 'accepted' });
    await sendEvent(node, created.id, { kind: 'started' });
    // The node's last sign of life comes more than a second into the run, so there is time to bill.
    await untilClockPasses((await jobRow(created.id))!.startedAt! + 1000);
    await json(await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat({ runningJobs: [created.id] })), 200);
    const lastSeen = Date.now();
    // Silent for longer than 3 × 10 s: the shard sweep marks it offline, the job sweep fails the job.
    await cron(Date.now() + 45_000);
    const job = (await jobRow(created.id))!;
    expect(job.status).toBe('failed');
    expect(job.lastReason).toBe('the node went offline while the job ran');
    const ranS = Math.ceil((lastSeen - job.startedAt!) / 1000);
    expect(job.billedGpuSeconds).toBeGreaterThanOrEqual(1);
    expect(job.billedGpuSeconds).toBeLessThanOrEqual(ranS);
    expect(job.captured).toBe(Math.floor((1_250_000 * job.billedGpuSeconds!) / 3600));
    await expectReconciled(renter.accountId, created.id, 1_250_000, 100_000_000);
    expect(await reputation(node.nodeId)).toBeCloseTo(0.8, 6);

    // Abandoning a running job is a staking offence: one pending slash of 50 tokens per GPU, the job as evidence.
    const [slash, ...more] = await slashesOf(node.nodeId);
    expect(more).toEqual([]);
    expect(slash).toMatchObject({
      offence: 'abandoned_job',
      dedupe_key: `job:${created.id}:abandoned`,
      amount: 2 * 50_000_000,
      status: 'pending',
    });
    expect(JSON.parse(slash!.evidence)).toMatchObject({ jobId: created.id, fault: 'node_offline', startedAt: job.startedAt });
    // Swept again, and reported again by an admin: still one offence.
    await cron(Date.now() + 90_000);
    const admin = await exports.default.fetch(
      new Request('http://gridplane.test/v1/admin/staking/offences', {
        method: 'POST',
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ offence: 'abandoned_job', nodeId: node.nodeId, jobId: created.id }),
      }),
    );
    expect(admin.status).toBe(201);
    expect(await slashesOf(node.nodeId)).toHaveLength(1);
  });

  it('applies every event once when each is sent twice, and bills one finish even under two event ids', async () => {
    const node = await nodeAt(37.57, 126.98, 'KR');
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 37.5, lon: 127.0 } })), 201);
    const path = `/v1/nodes/${node.nodeId}/jobs/${created.id}/events`;
    const twice = async (event: Record<string, unknown>) => {
      const a = await json(await node.send('POST', path, event), 200);
      const b = await json(await node.send('POST', path, event), 200);
      return [a, b];
    };
    const [acc1, acc2] = await twice({ eventId: 'e-acc', kind: 'accepted' });
    expect([acc1?.duplicate, acc2?.duplicate]).toEqual([false, true]);
    await twice({ eventId: 'e-start', kind: 'started' });
    await twice({ eventId: 'e-log-0', kind: 'log', seq: 0, stream: 'stdout', data: 'once\n' });
    const finish = { kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 1, runSeconds: 1 } };
    await twice({ eventId: 'e-fin', ...finish });
    // The same finish again under another id (an agent restarted and lost its ids): no second bill.
    const third = await json(await node.send('POST', path, { eventId: 'e-fin-again', ...finish }), 200);
    expect(third).toMatchObject({ status: 'succeeded', duplicate: false, applied: false });
    const logs = await json(await renter.call('GET', `/v1/jobs/${created.id}/logs`), 200);
    expect(logs.logs.map((l: { data: string }) => l.data)).toEqual(['once\n']);
    const job = (await jobRow(created.id))!;
    expect(job).toMatchObject({ status: 'succeeded', billedGpuSeconds: 1, captured: 347, fee: 34 });
    expect(await slashesOf(node.nodeId)).toEqual([]);
    await expectReconciled(renter.accountId, created.id, 208_334, 100_000_000);
    const transitions = await env.DB.prepare('SELECT count(*) AS n FROM job_transitions WHERE job_id = ?')
      .bind(created.id)
      .first<number>('n');
    expect(transitions).toBe(5);
  });

  it('cancels during start with a full refund; the agent’s late events change nothing', async () => {
    const node = await nodeAt(19.43, -99.13, 'MX');
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 19.4, lon: -99.1 } })), 201);
    await sendEvent(node, created.id, { kind: 'accepted' });
    const cancelled = await json(await renter.call('POST', `/v1/jobs/${created.id}/cancel`), 200);
    expect(cancelled).toMatchObject({ status: 'cancelled', billing: { captured: '0.000000', refunded: '0.208334' } });
    const started = await json(await sendEvent(node, created.id, { kind: 'started' }), 200);
    expect(started).toMatchObject({ status: 'cancelled', applied: false });
    await json(
      await sendEvent(node, created.id, { kind: 'finished', exitCode: 143, reason: 'stopped', receipt: { gpuSeconds: 5, runSeconds: 5 } }),
      200,
    );
    await expectReconciled(renter.accountId, created.id, 208_334, 100_000_000);
    const again = await renter.call('POST', `/v1/jobs/${created.id}/cancel`);
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('job_closed');
  });

  it('closes a running job past its duration and bills the duration bought, no more', async () => {
    const node = await nodeAt(-1.29, 36.82, 'KE');
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 60, client: { lat: -1.3, lon: 36.8 } })), 201);
    await sendEvent(node, created.id, { kind: 'accepted' });
    await sendEvent(node, created.id, { kind: 'started' });
    // Keep the node online at the sweep's time, so the overdue rule (not the offline one) decides.
    await cron(Date.now() + 5_000);
    expect((await jobRow(created.id))!.status).toBe('running');
    const startedAt = (await jobRow(created.id))!.startedAt!;
    await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat({ runningJobs: [created.id] }));
    await cron(startedAt + (60 + 60 + 1) * 1000 - 100_000 < Date.now() ? Date.now() + 25_000 : startedAt + 121_000);
    const job = (await jobRow(created.id))!;
    expect(['expired', 'failed']).toContain(job.status);
    expect(job.captured! + job.refunded!).toBe(job.escrowAmount);
    expect(job.billedGpuSeconds).toBeLessThanOrEqual(60);
    await expectReconciled(renter.accountId, created.id, job.escrowAmount, 100_000_000);
    // Past its end and never finished: abandoned, whichever rule closed it.
    const slashes = await slashesOf(node.nodeId);
    expect(slashes.map((x) => [x.offence, x.dedupe_key])).toEqual([['abandoned_job', `job:${created.id}:abandoned`]]);
    expect(JSON.parse(slashes[0]!.evidence).jobId).toBe(created.id);
  });

  it('gives the last GPU to one of two racing renters; the other is told there is no capacity', async () => {
    const node = await nodeAt(64.15, -21.94, 'IS', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }] });
    const [a, b] = await Promise.all([newRenter(), newRenter()]);
    const body = jobBody({ client: { lat: 64.1, lon: -21.9 } });
    const [ra, rb] = await Promise.all([a.call('POST', '/v1/jobs', body), b.call('POST', '/v1/jobs', body)]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    const loser = ra.status === 409 ? a : b;
    expect(await getBalance(db, loser.accountId)).toBe(100_000_000);
    expect(await env.DB.prepare('SELECT sum(count) AS n FROM gpu_commitments WHERE node_id = ?').bind(node.nodeId).first('n')).toBe(1);
  });

  it('honours Idempotency-Key: one job and one hold per key; another body under the key is refused', async () => {
    await nodeAt(45.5, -73.57, 'CA');
    const renter = await newRenter();
    const body = jobBody({ client: { lat: 45.5, lon: -73.6 } });
    const first = await renter.call('POST', '/v1/jobs', body, { 'Idempotency-Key': 'train-42' });
    const second = await renter.call('POST', '/v1/jobs', body, { 'Idempotency-Key': 'train-42' });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await json(first)).id).toBe((await json(second)).id);
    expect(await getBalance(db, renter.accountId)).toBe(100_000_000 - 208_334);
    const other = await renter.call('POST', '/v1/jobs', { ...body, durationS: 61 }, { 'Idempotency-Key': 'train-42' });
    expect(other.status).toBe(409);
    expect((await json(other)).error.code).toBe('idempotency_conflict');
  });

  it('refuses a job the renter cannot pay for, holding and creating nothing', async () => {
    await nodeAt(41.9, 12.5, 'IT');
    const renter = await newRenter('0.000100');
    const res = await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 41.9, lon: 12.5 } }));
    expect(res.status).toBe(402);
    expect((await json(res)).error.code).toBe('insufficient_funds');
    expect(await env.DB.prepare('SELECT count(*) AS n FROM jobs WHERE account_id = ?').bind(renter.accountId).first('n')).toBe(0);
    expect(await getBalance(db, renter.accountId)).toBe(100);
  });
});
