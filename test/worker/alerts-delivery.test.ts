import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { emitAlert, emitAlerts } from '../../workers/alerts/emit-alert.ts';
import { registeredAgent } from './helpers/agent.ts';
import { alertsSettled } from './helpers/alert-sentinel.ts';
import { alertEvent, deliveryStatus, linkedOperator, say, type Operator } from './helpers/operator.ts';
import { endFailure, eventually, scriptFailure, sentTo } from './helpers/telegram.ts';

// Alerts are emitted through the real queue binding; the consumer, the chat's AlertChat object
// and its alarms run as in production, and the Bot API is the local stand-in.

let seq = 0;
const eventId = (label: string) => `test:${label}:${Date.now()}:${++seq}`;

async function subscribedOperator(): Promise<Operator & { nodeId: string }> {
  const op = await linkedOperator();
  const agent = await registeredAgent({ owner: op.wallet, name: 'rig-a' });
  await say(op, '/alerts on');
  return { ...op, nodeId: agent.nodeId };
}

/** Alert messages only: the chat's command answers are left out. */
const alertsSentTo = async (chatId: number) =>
  (await sentTo(chatId)).filter((c) => c.body.link_preview_options !== undefined && !String(c.body.text).startsWith('Alerts on'));

describe('alert delivery', () => {
  it('sends at most one message per second to a chat', async () => {
    const op = await subscribedOperator();
    await emitAlert(env, { eventId: eventId('a'), kind: 'job_failed', nodeId: op.nodeId, at: Date.now(), data: { jobId: 'job_1' } });
    const first = await eventually(async () => {
      const sent = await alertsSentTo(op.chatId);
      expect(sent).toHaveLength(1);
      return sent[0]!;
    });
    // Emitted right after the first went out: grouping alone would send it 300 ms later.
    await emitAlert(env, { eventId: eventId('b'), kind: 'job_failed', nodeId: op.nodeId, at: Date.now(), data: { jobId: 'job_2' } });
    const second = await eventually(async () => {
      const sent = await alertsSentTo(op.chatId);
      expect(sent).toHaveLength(2);
      return sent[1]!;
    });
    expect(String(first.body.text)).toMatch(/^❌ Job job_1 failed on rig-a at \d\d:\d\d UTC\.$/);
    expect(String(second.body.text)).toContain('job_2');
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
  });

  it('waits exactly as long as a 429 says, then delivers', async () => {
    const op = await subscribedOperator();
    await scriptFailure(op.chatId, { status: 429, count: 1, retryAfter: 2 });
    await emitAlert(env, {
      eventId: eventId('slash'),
      kind: 'slashed',
      nodeId: op.nodeId,
      at: Date.now(),
      data: { amount: 2_500_000, reason: 'failed challenge' },
    });
    const calls = await eventually(async () => {
      const sent = await alertsSentTo(op.chatId);
      expect(sent.map((c) => c.status)).toEqual([429, 200]);
      return sent;
    }, 25_000);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(calls[1]!.at - calls[0]!.at).toBeLessThan(4000);
    expect(String(calls[1]!.body.text)).toMatch(/^✂️ 2.5 tokens of stake on rig-a slashed at \d\d:\d\d UTC: failed challenge\.$/);
  });

  it('survives a Bot API outage: retries with backoff, then delivers everything once', async () => {
    const op = await subscribedOperator();
    await scriptFailure(op.chatId, { status: 502 });
    const ids = [eventId('o1'), eventId('o2'), eventId('o3')];
    await emitAlert(env, { eventId: ids[0]!, kind: 'node_offline', nodeId: op.nodeId, at: Date.now() });
    await emitAlert(env, { eventId: ids[1]!, kind: 'job_failed', nodeId: op.nodeId, at: Date.now(), data: { jobId: 'job_x' } });
    await emitAlert(env, { eventId: ids[2]!, kind: 'reward_paid', accountId: op.accountId, at: Date.now(), data: { amount: 1_000_000 } });
    const failures = await eventually(async () => {
      const sent = await alertsSentTo(op.chatId);
      expect(sent.length).toBeGreaterThanOrEqual(4);
      return sent;
    }, 25_000);
    expect(failures.every((c) => c.status === 502)).toBe(true);
    // Backoff: the gaps between attempts grow.
    const gaps = failures.slice(1).map((c, i) => c.at - failures[i]!.at);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
    const during = await deliveryStatus(op.chatId);
    expect(during.pending).toBe(3);
    expect(during.attempts).toBeGreaterThanOrEqual(4);

    await endFailure(op.chatId);
    const delivered = await eventually(async () => {
      const ok = (await alertsSentTo(op.chatId)).filter((c) => c.status === 200);
      expect(ok).toHaveLength(1);
      return ok[0]!;
    }, 25_000);
    const text = String(delivered.body.text);
    expect(text).toContain('rig-a went offline');
    expect(text).toContain('Job job_x failed on rig-a');
    expect(text).toContain('Payout of 1 tokens sent');
    expect(await deliveryStatus(op.chatId)).toMatchObject({ pending: 0, sent: 3, attempts: 0 });
  });

  it('retries when the connection drops', async () => {
    const op = await subscribedOperator();
    await scriptFailure(op.chatId, { status: 0, count: 2 });
    await emitAlert(env, {
      eventId: eventId('drop'),
      kind: 'gpu_hot',
      nodeId: op.nodeId,
      at: Date.now(),
      data: { gpuIndex: 1, tempC: 91, thresholdC: 85 },
    });
    const sent = await eventually(async () => {
      const list = await alertsSentTo(op.chatId);
      expect(list.map((c) => c.status)).toEqual([0, 0, 200]);
      return list;
    }, 25_000);
    expect(String(sent[2]!.body.text)).toMatch(/^🌡 rig-a: GPU 1 at 91 °C \(limit 85 °C\)/);
  });

  it('alerts once per event id, however often it is emitted', async () => {
    const op = await subscribedOperator();
    const id = eventId('dup');
    const event = {
      eventId: id,
      kind: 'verification_failed' as const,
      nodeId: op.nodeId,
      at: Date.now(),
      data: { reason: 'wrong matmul checksum' },
    };
    await emitAlerts(env, [event, event, event]);
    await emitAlert(env, event);
    await eventually(async () => expect(await alertsSentTo(op.chatId)).toHaveLength(1));
    // Emitted again after delivery: still nothing new. The sentinel goes out only after the
    // repeat has been through the queue, the consumer and the chat (helpers/alert-sentinel.ts).
    await emitAlert(env, event);
    const { status } = await alertsSettled(op.chatId);
    const lines = (await alertsSentTo(op.chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((l) => l.startsWith('⚠️'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^⚠️ rig-a failed verification at \d\d:\d\d UTC: wrong matmul checksum\.$/);
    expect(status).toMatchObject({ pending: 0, sent: 2 }); // the alert and the sentinel
  });

  it('honours per-event opt-out', async () => {
    const op = await subscribedOperator();
    expect(await say(op, '/alerts mute payout')).toBe('Muted: payout.');
    const muted = eventId('muted');
    await emitAlert(env, { eventId: muted, kind: 'reward_paid', accountId: op.accountId, at: Date.now(), data: { amount: 5 } });
    await emitAlert(env, {
      eventId: eventId('loud'),
      kind: 'stake_low',
      nodeId: op.nodeId,
      at: Date.now(),
      data: { stake: 10_000_000, minimum: 50_000_000 },
    });
    const sent = await eventually(async () => {
      const list = await alertsSentTo(op.chatId);
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    expect(String(sent.body.text)).toBe('📉 Stake on rig-a is 10 tokens, below the minimum of 50.');
    const record = await alertEvent(muted);
    expect(record).toMatchObject({ kind: 'reward_paid', recipients: 0 });
    expect(record!.fanned_out_at).not.toBeNull();
  });

  it('holds alerts during quiet hours and delivers them together when they end', async () => {
    const op = await subscribedOperator();
    const minute = Math.floor((Date.now() % 86_400_000) / 60_000);
    const fmt = (m: number) =>
      `${String(Math.floor(((m + 1440) % 1440) / 60)).padStart(2, '0')}:${String(((m % 60) + 60) % 60).padStart(2, '0')}`;
    expect(await say(op, `/alerts quiet ${fmt(minute - 60)}-${fmt(minute + 60)} UTC`)).toMatch(/^Quiet hours/);
    await emitAlert(env, { eventId: eventId('q1'), kind: 'node_offline', nodeId: op.nodeId, at: Date.now() });
    await emitAlert(env, { eventId: eventId('q2'), kind: 'node_online', nodeId: op.nodeId, at: Date.now() + 1 });
    await eventually(async () => expect((await deliveryStatus(op.chatId)).pending).toBe(2));
    const held = await deliveryStatus(op.chatId);
    // The next attempt is when quiet hours end, about an hour from now.
    expect(held.nextAlarmAt! - Date.now()).toBeGreaterThan(55 * 60_000);
    expect(await alertsSentTo(op.chatId)).toHaveLength(0);

    expect(await say(op, '/alerts quiet off')).toBe('Quiet hours off.');
    const sent = await eventually(async () => {
      const list = await alertsSentTo(op.chatId);
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    expect(String(sent.body.text).split('\n')).toHaveLength(2);
  });

  it("shows alert times in the chat's time zone", async () => {
    const op = await subscribedOperator();
    // Half an hour of quiet, six hours from now in Tokyo (UTC+9): only the zone matters here.
    const tokyoMin = (Math.floor((Date.now() % 86_400_000) / 60_000) + 9 * 60 + 6 * 60) % 1440;
    const hm = (m: number) => `${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    expect(await say(op, `/alerts quiet ${hm(tokyoMin)}-${hm(tokyoMin + 30)} Asia/Tokyo`)).toMatch(/Asia\/Tokyo/);
    const at = Date.UTC(2026, 10, 21, 12, 5);
    await emitAlert(env, { eventId: eventId('tz'), kind: 'node_offline', nodeId: op.nodeId, at });
    const sent = await eventually(async () => {
      const list = await alertsSentTo(op.chatId);
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    // 12:05 UTC is 21:05 in Tokyo.
    expect(String(sent.body.text)).toBe('🔴 rig-a went offline at 21:05.');
  });

  it('refuses malformed events at the emitter', async () => {
    await expect(emitAlert(env, { eventId: '', kind: 'node_offline', nodeId: 'x', at: 1 })).rejects.toThrow();
    await expect(emitAlert(env, { eventId: 'x', kind: 'node_offline', at: 1 })).rejects.toThrow(/nodeId or an accountId/);
  });
});
