import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { heartbeat, registeredAgent, type TestAgent } from './helpers/agent.ts';
import { alertsSettled } from './helpers/alert-sentinel.ts';
import { linkedOperator, say } from './helpers/operator.ts';
import { eventually, sentTo } from './helpers/telegram.ts';

const cron = (scheduledTime: number) =>
  (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
    cron: '* * * * *',
    scheduledTime,
  });

describe('node offline / online alerts from node_events', () => {
  it('ten nodes going offline is one message, and their return is one more', async () => {
    const op = await linkedOperator();
    const agents: TestAgent[] = [];
    for (let i = 0; i < 10; i++) agents.push(await registeredAgent({ owner: op.wallet, name: `rig-${i}` }));
    // A node of someone else's must not show up in this operator's chat.
    const stranger = await registeredAgent({ name: 'not-yours' });
    expect(await say(op, '/alerts on')).toMatch(/all your nodes \(10 now/);

    // The sweep judges every node silent (3 × 10 s) at a trigger time a minute ahead.
    await cron(Date.now() + 60_000);
    const offline = await env.DB.prepare("SELECT count(*) AS n FROM node_events WHERE kind = 'offline'").first<{ n: number }>();
    expect(offline!.n).toBe(11);

    // The chat's first message was the answer to /alerts on.
    const first = await eventually(async () => {
      const sent = await sentTo(op.chatId);
      expect(sent).toHaveLength(2);
      return sent[1]!;
    });
    const text = String(first.body.text);
    expect(text).toMatch(/^🔴 10 nodes went offline/);
    // Names in natural order, the first six, then a count.
    expect(text).toContain(': rig-0, rig-1, rig-2, rig-3, rig-4, rig-5 and 4 more.');
    expect(text).not.toContain('not-yours');

    // Back online: heartbeats queue the transitions in the shards; the next cron flushes them to
    // node_events (as the shards' own alarms would within a second) and turns them into alerts.
    for (const a of agents) expect((await a.send('POST', `/v1/nodes/${a.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    expect((await stranger.send('POST', `/v1/nodes/${stranger.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    await cron(Date.now());
    const online = await env.DB.prepare("SELECT count(*) AS n FROM node_events WHERE kind = 'online'").first<{ n: number }>();
    expect(online!.n).toBe(11);
    const second = await eventually(async () => {
      const sent = await sentTo(op.chatId);
      expect(sent).toHaveLength(3);
      return sent[2]!;
    });
    expect(String(second.body.text)).toMatch(/^🟢 10 nodes back online/);
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);

    // A later cron finds nothing new: no repeats. It emits before it returns, so the sentinel
    // follows anything it emitted (helpers/alert-sentinel.ts) and goes out in a message of its own.
    await cron(Date.now());
    const { sentinelJobId, status } = await alertsSettled(op.chatId);
    const sent = await sentTo(op.chatId);
    expect(sent).toHaveLength(4);
    expect(String(sent[3]!.body.text)).toMatch(new RegExp(`^❌ Job ${sentinelJobId} failed on your account at \\d\\d:\\d\\d UTC\\.$`));
    expect(status).toMatchObject({ pending: 0, sent: 21 });
  });

  it('a subscription to one node alerts for that node only', async () => {
    const op = await linkedOperator();
    const watched = await registeredAgent({ owner: op.wallet, name: 'watched' });
    const other = await registeredAgent({ owner: op.wallet, name: 'unwatched' });
    expect(await say(op, `/alerts on ${watched.nodeId}`)).toBe('Alerts on for watched.');
    expect(await say(op, '/alerts on rig-of-someone-else')).toMatch(/None of your nodes/);
    await cron(Date.now() + 60_000);
    const sent = await eventually(async () => {
      const list = await sentTo(op.chatId);
      expect(list).toHaveLength(3); // the two command answers and one alert
      return list[2]!;
    });
    expect(String(sent.body.text)).toMatch(/^🔴 watched went offline at \d\d:\d\d UTC\.$/);
    expect(String(sent.body.text)).not.toContain(other.nodeId.slice(0, 4));
  });
});
