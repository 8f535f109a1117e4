import { describe, expect, it } from 'vitest';
import { heartbeat } from './helpers/agent.ts';
import { alertsSettled } from './helpers/alert-sentinel.ts';
import { jobBody, json, newRenter, nodeAt, sendEvent } from './helpers/jobs.ts';
import { linkTelegram, linkedOperator, say } from './helpers/operator.ts';
import { answer, devAccount, fetchChallenge, ownedNode } from './helpers/staking.ts';
import { eventually, sentTo } from './helpers/telegram.ts';

// Other features emit alerts with one emitAlert call; these tests drive those features through
// their public routes and watch the operator's chat.

describe('alerts emitted by other features', () => {
  it("a job failing on an operator's node reaches the operator", async () => {
    const op = await linkedOperator();
    const node = await nodeAt(48.86, 2.35, 'FR', { owner: op.wallet, name: 'paris-1' });
    expect(await say(op, '/alerts on')).toMatch(/^Alerts on/);
    const renter = await newRenter();
    const job = await json<{ id: string }>(await renter.call('POST', '/v1/jobs', jobBody()), 201);
    await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat());
    await sendEvent(node, job.id, { kind: 'accepted' });
    await sendEvent(node, job.id, { kind: 'started' });
    const finished = await sendEvent(node, job.id, {
      kind: 'finished',
      exitCode: 1,
      reason: 'error',
      receipt: { gpuSeconds: 5, runSeconds: 5 },
      message: 'CUDA out of memory',
    });
    expect(finished.status).toBe(200);
    expect((await json<{ status: string }>(await renter.call('GET', `/v1/jobs/${job.id}`), 200)).status).toBe('failed');
    const alert = await eventually(async () => {
      const sent = (await sentTo(op.chatId)).filter((c) => String(c.body.text).startsWith('❌'));
      expect(sent).toHaveLength(1);
      return String(sent[0]!.body.text);
    });
    expect(alert).toMatch(new RegExp(`^❌ Job ${job.id} failed on paris-1 at \\d\\d:\\d\\d UTC`));
  });
});

describe('GPU temperature alerts from heartbeats', () => {
  it('alerts on crossing the threshold, once, and again only after cooling down', async () => {
    const op = await linkedOperator();
    const node = await nodeAt(52.52, 13.4, 'DE', { owner: op.wallet, name: 'berlin-1' });
    await say(op, '/alerts on');
    const beat = (temps: number[]) =>
      node.send(
        'POST',
        `/v1/nodes/${node.nodeId}/heartbeat`,
        heartbeat({ gpus: temps.map((tempC, index) => ({ index, utilPct: 90, memUsedMb: 20000, tempC, powerW: 300 })) }),
      );
    const hotAlerts = async () => (await sentTo(op.chatId)).filter((c) => String(c.body.text).startsWith('🌡'));

    expect((await beat([70, 72])).status).toBe(200);
    expect((await beat([71, 88])).status).toBe(200); // crosses 85 °C on GPU 1
    const first = await eventually(async () => {
      const sent = await hotAlerts();
      expect(sent).toHaveLength(1);
      return String(sent[0]!.body.text);
    });
    expect(first).toMatch(/^🌡 berlin-1: GPU 1 at 88 °C \(limit 85 °C\)/);
    await beat([71, 90]); // still hot: no new alert
    await beat([70, 82]); // below 85 but within the 5 °C hysteresis: still hot
    await beat([70, 86]);
    await beat([60, 79]); // cooled
    await beat([60, 87]); // hot again
    // Each heartbeat emits before it answers, so the sentinel follows whatever these six emitted
    // (helpers/alert-sentinel.ts). Lines, not messages: alerts arriving together share a message.
    await alertsSettled(op.chatId);
    const lines = (await sentTo(op.chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((l) => l.startsWith('🌡'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^🌡 berlin-1: GPU 1 at 87 °C \(limit 85 °C\)/);
  });
});

describe('verification alerts', () => {
  it('a wrong answer to a hardware challenge reaches the operator', async () => {
    const owner = await devAccount();
    const chatId = await linkTelegram(owner.accountId);
    const node = await ownedNode(owner, { name: 'liar-1' });
    await say({ chatId }, '/alerts on');
    const challenge = await fetchChallenge(node);
    const result = await answer(node, challenge!, new Uint8Array(challenge!.n * 8).fill(7));
    expect(result.body).toMatchObject({ status: 'failed', failure: 'wrong_answer' });
    const alert = await eventually(async () => {
      const sent = (await sentTo(chatId)).filter((c) => String(c.body.text).startsWith('⚠️'));
      expect(sent).toHaveLength(1);
      return String(sent[0]!.body.text);
    });
    expect(alert).toMatch(/^⚠️ liar-1 failed verification at \d\d:\d\d UTC: wrong answer\.$/);
  });
});

describe("alerts read from other features' records", () => {
  it("an applied slash reaches the node's operator once", async () => {
    const { env, exports } = await import('cloudflare:workers');
    const op = await linkedOperator();
    const node = await nodeAt(40.4, -3.7, 'ES', { owner: op.wallet, name: 'madrid-1' });
    await say(op, '/alerts on');
    // The record the epoch close writes when it applies a slash (workers/slashing/apply-slash.ts).
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO slashes (id, node_id, offence, dedupe_key, amount, evidence, status, epoch, created_at, applied_at)
       VALUES (?, ?, 'failed_verification', ?, 40000000, '{}', 'applied', 1, ?, ?)`,
    )
      .bind(`sl_${now}`, node.nodeId, `verify:${node.nodeId}:${now}`, now, now)
      .run();
    const cron = () =>
      (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
        cron: '* * * * *',
        scheduledTime: Date.now(),
      });
    await cron();
    await cron(); // the pump re-reads its last millisecond; the repeat is dropped by event id
    const alert = await eventually(async () => {
      const sent = (await sentTo(op.chatId)).filter((c) => String(c.body.text).startsWith('✂️'));
      expect(sent).toHaveLength(1);
      return String(sent[0]!.body.text);
    });
    expect(alert).toMatch(/^✂️ 40 tokens of stake on madrid-1 slashed at \d\d:\d\d UTC: failed verification\.$/);
    // Both crons emitted before they returned; once the sentinel is out, so is any repeat.
    await alertsSettled(op.chatId);
    expect((await sentTo(op.chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((l) => l.startsWith('✂️'))).toEqual([alert]);
  });
});
