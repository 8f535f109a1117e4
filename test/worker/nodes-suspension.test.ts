import { createExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../workers/app.ts';
import { shardIndex } from '../../workers/live/shard.ts';
import { nonceHomeIndex } from '../../workers/live/shard-stub.ts';
import { closeDueEpochs } from '../../workers/rewards/close-epoch.ts';
import { alertsSettled } from './helpers/alert-sentinel.ts';
import { api, call, errorOf, heartbeat, OWNER, registration, signedRequest, type TestAgent } from './helpers/agent.ts';
import { json, jobBody, newRenter, nodeAt, readyNode, sendEvent } from './helpers/jobs.ts';
import { balanceOf, expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { linkTelegram, say } from './helpers/operator.ts';
import { sql, testConfig } from './helpers/staking.ts';
import { sentTo } from './helpers/telegram.ts';

// An admin suspends a node (POST /v1/admin/nodes/{id}/suspend): it gets no jobs and no rewards,
// its agent's every signed request is refused with 403 node_suspended (heartbeats decided by the
// node's Durable Object, without D1), its placed jobs are taken away, its key cannot register
// again, and its operator hears of it in Telegram. Unsuspending undoes all but the history.

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' };

const admin = (
  nodeId: string,
  verb: 'suspend' | 'unsuspend',
  body: unknown = { reason: 'fraudulent receipts' },
  headers: Record<string, string> = ADMIN,
) => api(`/v1/admin/nodes/${nodeId}/${verb}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });

const nodeRow = async (nodeId: string) =>
  (
    await sql<{ suspended: number; eligible: number; owner: string; name: string }>(
      'SELECT suspended, eligible, owner, name FROM nodes WHERE id = ?',
      nodeId,
    )
  )[0]!;

async function expectSuspended(res: Response): Promise<void> {
  expect(await errorOf(res)).toMatchObject({ status: 403, code: 'node_suspended' });
}

/** Every signed route an agent calls, freshly signed each time. */
async function everySignedRoute(node: TestAgent, jobId = 'job_00000000000000000000000000000000'): Promise<Response[]> {
  return [
    await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()),
    await node.send('GET', `/v1/nodes/${node.nodeId}/challenges`),
    await node.send('POST', `/v1/nodes/${node.nodeId}/challenges/chl_00000000000000000000000000000000/answer`, { digests: [] }),
    await sendEvent(node, jobId, { kind: 'accepted' }),
    await node.send('GET', `/v1/nodes/${node.nodeId}/stream`, undefined),
    await node.send('POST', '/v1/nodes', registration({ owner: (await nodeRow(node.nodeId)).owner })),
  ];
}

const quotedNodes = async (client: { lat: number; lon: number }) => {
  const body = await json(
    await api('/v1/quotes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gpu: { model: '4090', count: 1 }, durationS: 60, client }),
    }),
    200,
  );
  return (body.candidates as { nodeId: string }[]).map((c) => c.nodeId);
};

describe('suspending a node', () => {
  it('takes it out of quotes, refuses every signed agent route and its key’s re-registration, and alerts its operator', async () => {
    const node = await nodeAt(-33.87, 151.21, 'AU', { name: 'sydney-1' });
    const chatId = await linkTelegram(node.operator.accountId);
    expect(await say({ chatId }, '/alerts on')).toMatch(/^Alerts on for all your nodes/);
    expect(await quotedNodes({ lat: -33.8, lon: 151.2 })).toContain(node.nodeId);

    const res = await admin(node.nodeId, 'suspend');
    const body = await json(res, 200);
    expect(body).toMatchObject({ nodeId: node.nodeId, suspended: true, reason: 'fraudulent receipts', jobs: { requeued: 0, failed: 0 } });
    expect(await nodeRow(node.nodeId)).toMatchObject({ suspended: 1, eligible: 0 });
    expect(await quotedNodes({ lat: -33.8, lon: 151.2 })).not.toContain(node.nodeId);

    for (const refused of await everySignedRoute(node)) await expectSuspended(refused);
    // The node id is the key: registering it again, under another owner and name, is refused too.
    await expectSuspended(await node.send('POST', '/v1/nodes', registration({ owner: OWNER, name: 'fresh-start' })));
    expect((await nodeRow(node.nodeId)).name).toBe('sydney-1');

    // The operator's chat hears it once, with the reason, however often the admin repeats the call.
    await json(await admin(node.nodeId, 'suspend', { reason: 'a different reason' }), 200);
    await alertsSettled(chatId);
    const lines = (await sentTo(chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((l) => l.startsWith('⛔'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^⛔ sydney-1 was suspended by gridplane at \d\d:\d\d UTC: fraudulent receipts\./);
    const events = await sql<{ kind: string; detail: string }>(
      "SELECT kind, detail FROM node_events WHERE node_id = ? AND kind IN ('suspended', 'unsuspended')",
      node.nodeId,
    );
    expect(events).toEqual([{ kind: 'suspended', detail: JSON.stringify({ reason: 'fraudulent receipts' }) }]);
  });

  it('decides heartbeats in the Durable Object also when the live shard is not the nonce home', async () => {
    // The suite runs with HEARTBEAT_SHARDS=4; with 4 shards most nodes' live shard differs from their nonce home.
    let node = await readyNode();
    while (shardIndex(node.nodeId, 4) === nonceHomeIndex(node.nodeId)) node = await readyNode();
    await json(await admin(node.nodeId, 'suspend'), 200);
    await expectSuspended(await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()));
    // And after a change of the shard count (the flag lives at the nonce home, which does not move).
    for (const count of [1, 32]) {
      const request = await signedRequest(node.keyPair, node.nodeId, 'POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat());
      await expectSuspended(await app.fetch(request, { ...env, HEARTBEAT_SHARDS: String(count) } as typeof env, createExecutionContext()));
    }
  });

  it('fails its running job with a full refund and moves its assigned job to another node', async () => {
    const suspended = await nodeAt(1.35, 103.82, 'SG', { name: 'singapore-1' });
    const renter = await newRenter();
    const running = await json(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 3600, client: { lat: 1.3, lon: 103.8 } })), 201);
    expect(running.nodeId).toBe(suspended.nodeId);
    await json(await sendEvent(suspended, running.id, { kind: 'accepted' }), 200);
    await json(await sendEvent(suspended, running.id, { kind: 'started' }), 200);
    const assigned = await json(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 600, client: { lat: 1.3, lon: 103.8 } })), 201);
    expect(assigned.nodeId).toBe(suspended.nodeId);
    const other = await nodeAt(3.14, 101.69, 'MY', { name: 'kuala-lumpur-1' });
    const before = await balanceOf(renter.accountId);
    // The agent's open stream hears that each job is taken from it, then is closed.
    const request = await signedRequest(suspended.keyPair, suspended.nodeId, 'GET', `/v1/nodes/${suspended.nodeId}/stream`);
    request.headers.set('Upgrade', 'websocket');
    const ws = (await call(request)).webSocket!;
    const messages: Record<string, any>[] = [];
    let closed: number | null = null;
    ws.addEventListener('message', (e) => messages.push(JSON.parse(e.data as string)));
    ws.addEventListener('close', (e) => (closed = e.code));
    ws.accept();
    await expect.poll(() => messages.some((m) => m.type === 'hello'), { timeout: 2000 }).toBe(true);

    const body = await json(await admin(suspended.nodeId, 'suspend'), 200);
    expect(body.jobs).toEqual({ requeued: 1, failed: 1 });
    await expect.poll(() => closed, { timeout: 2000 }).toBe(1008);
    expect(
      messages
        .filter((m) => m.type === 'stop')
        .map((m) => m.jobId)
        .sort(),
    ).toEqual([running.id, assigned.id].sort());

    const failed = await json(await renter.call('GET', `/v1/jobs/${running.id}`), 200);
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.transitions.at(-1)).toMatchObject({ to: 'failed', actor: 'admin', reason: 'the node was suspended while the job ran' });
    const row = (
      await sql<{ captured: number; refunded: number; escrow_amount: number }>(
        'SELECT captured, refunded, escrow_amount FROM jobs WHERE id = ?',
        running.id,
      )
    )[0]!;
    expect(row).toMatchObject({ captured: 0, refunded: row.escrow_amount });
    expect(await balanceOf(renter.accountId)).toBe(before + row.escrow_amount);
    // The admin's decision, not an offence of the node's: no slash for the abandoned job.
    expect(await sql('SELECT id FROM slashes WHERE node_id = ?', suspended.nodeId)).toEqual([]);

    const moved = await json(await renter.call('GET', `/v1/jobs/${assigned.id}`), 200);
    expect(moved).toMatchObject({ status: 'assigned', nodeId: other.nodeId });
    await expectLedgerReconciles();
  });

  // Before the sweep test below: its cron closes every epoch due by now, and epochs close in order.
  it('leaves it out of the epoch close: no snapshot row, no reward', async () => {
    const kept = await readyNode();
    const banned = await readyNode();
    // Both were up half the epoch (the capacity reward follows uptime); only one is suspended.
    for (const n of [kept, banned])
      await env.DB.prepare('UPDATE nodes SET online_ms = online_ms + 1800000 WHERE id = ?').bind(n.nodeId).run();
    await json(await admin(banned.nodeId, 'suspend'), 200);
    const GENESIS = 1_767_225_600_000;
    const HOUR = 3_600_000;
    const report = await closeDueEpochs(testDb(), testConfig({ EMISSION_TOTAL_TOKENS: 43_800_000, EMISSION_YEARLY_RELEASE_BPS: 2000 }), {
      nowMs: GENESIS + 201 * HOUR + 1,
      workSource: async () => [],
    });
    expect(report.closed).toEqual([200]);
    const nodes = (await sql<{ node_id: string }>('SELECT node_id FROM epoch_nodes WHERE epoch = 200')).map((r) => r.node_id);
    expect(nodes).toContain(kept.nodeId);
    expect(nodes).not.toContain(banned.nodeId);
    expect(await sql('SELECT amount FROM reward_shares WHERE epoch = 200 AND node_id = ?', banned.nodeId)).toEqual([]);
    expect(
      (await sql<{ amount: number }>('SELECT amount FROM reward_shares WHERE epoch = 200 AND node_id = ?', kept.nodeId)).length,
    ).toBeGreaterThan(0);
  });

  it('is lifted by unsuspend: heartbeats, registration and eligibility come back', async () => {
    const node = await readyNode();
    await json(await admin(node.nodeId, 'suspend'), 200);
    await expectSuspended(await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()));
    const body = await json(await admin(node.nodeId, 'unsuspend', undefined), 200);
    expect(body).toMatchObject({ nodeId: node.nodeId, suspended: false });
    expect(await nodeRow(node.nodeId)).toMatchObject({ suspended: 0, eligible: 1 });
    expect((await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    expect((await node.send('GET', `/v1/nodes/${node.nodeId}/challenges`)).status).toBe(200);
    const events = await sql<{ kind: string }>(
      "SELECT kind FROM node_events WHERE node_id = ? AND kind IN ('suspended', 'unsuspended') ORDER BY id",
      node.nodeId,
    );
    expect(events.map((e) => e.kind)).toEqual(['suspended', 'unsuspended']);
  });

  it('refuses bad admin calls and changes nothing', async () => {
    const node = await readyNode();
    expect(await errorOf(await admin(node.nodeId, 'suspend', { reason: 'x' }, { 'content-type': 'application/json' }))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect(await errorOf(await admin(node.nodeId, 'suspend', {}))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await admin(node.nodeId, 'suspend', { reason: '' }))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await admin(node.nodeId, 'suspend', { reason: 'x'.repeat(501) }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(await errorOf(await admin(node.nodeId, 'suspend', { reason: 'ok', extra: 1 }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(await errorOf(await admin('NoSuchNode1111111111111111111111111111111', 'suspend'))).toMatchObject({
      status: 404,
      code: 'node_not_found',
    });
    expect(await nodeRow(node.nodeId)).toMatchObject({ suspended: 0, eligible: 1 });
    expect((await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    expect(await sql("SELECT id FROM node_events WHERE node_id = ? AND kind = 'suspended'", node.nodeId)).toEqual([]);
  });

  it('the job sweep takes a job left on a suspended node by a suspend call that died after its D1 batch', async () => {
    const node = await nodeAt(-1.29, 36.82, 'KE');
    const renter = await newRenter();
    const job = await json(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 600, client: { lat: -1.3, lon: 36.8 } })), 201);
    expect(job.nodeId).toBe(node.nodeId);
    // What the route's batch wrote, and nothing after it.
    await env.DB.prepare('UPDATE nodes SET suspended = 1, eligible = 0 WHERE id = ?').bind(node.nodeId).run();
    await (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
      cron: '* * * * *',
      scheduledTime: Date.now(),
    });
    const after = await json(await renter.call('GET', `/v1/jobs/${job.id}`), 200);
    expect(after.transitions.find((t: { from: string; reason: string }) => t.from === 'assigned')).toMatchObject({
      actor: 'admin',
      reason: 'the node was suspended before the job ran',
    });
    expect(after.nodeId).not.toBe(node.nodeId);
  });
});
