import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import * as schema from '../../db/schema.ts';
import type { Db } from '../../workers/app-env.ts';
import { alertChatFor } from '../../workers/alerts/alert-chat.do.ts';
import { emitAlert } from '../../workers/alerts/emit-alert.ts';
import { tendEndpoints } from '../../workers/cron/endpoints.ts';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { endpointsToTend, getEndpoint } from '../../workers/endpoints/endpoints.repo.ts';
import { tendEndpoint } from '../../workers/endpoints/tend.ts';
import { rentTemplate } from '../../workers/templates/template-rental.ts';
import { templateById } from '../../workers/templates/templates.ts';
import { nodeAt } from './helpers/jobs.ts';
import { newFundedAccount, testDb } from './helpers/ledger.ts';
import { linkTelegram } from './helpers/operator.ts';
import { eventually, sentTo } from './helpers/telegram.ts';
import { FaultyD1, isSimCrash } from './sim/faulty-d1.ts';

// A template rental's `rental_ended` alert survives an isolate that dies at its end (issue 15):
// the UPDATE that stops the rental also records the alert as owed (`end_alert_due`), so a crash
// between the stop and the queue leaves the debt in D1 and the next cron tick pays it; a crash
// after the queue but before the debt is cleared sends the same event id again, which the alert
// consumer drops. The crash is FaultyD1 (test/worker/sim/faulty-d1.ts): the real D1 until its Nth
// write, dead from then on, as an isolate killed between two awaited writes. A queue that refuses
// keeps the debt too, past the replicas and the hold, and the cron still tends the endpoint.

const PRICE = 1_500_000n;

let node: Promise<unknown> | undefined;
async function rental(): Promise<{ endpointId: string; accountId: string; chatId: number; end: number }> {
  node ??= nodeAt(48.86, 2.35, 'FR', {
    name: 'end-rig',
    gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }],
    pricePerGpuHour: '1.500000',
  });
  await node;
  const accountId = await newFundedAccount(20_000_000);
  const chatId = await linkTelegram(accountId);
  const ctx = endpointsContext(env);
  const now = Date.now();
  const rented = await rentTemplate(
    ctx,
    {
      accountId,
      template: templateById('notebook')!,
      gpu: { model: 'RTX 4090', count: 1 },
      durationS: 3600,
      maxPricePerGpuHour: PRICE,
      near: { lat: 48.85, lon: 2.35 },
      idempotencyKey: `end-crash-${accountId}`,
    },
    'http://gridplane.test',
    now,
  );
  // The first tick places its replica, as the cron does after a rental.
  await tendEndpoint(ctx, rented.endpoint.id, now);
  expect((await tendEndpoint(ctx, rented.endpoint.id, now)).status).toBe('active');
  return { endpointId: rented.endpoint.id, accountId, chatId, end: rented.endpoint.stopAt! };
}

/** An endpoints context whose D1 is the real one behind FaultyD1. */
function faultyContext(faulty: FaultyD1) {
  return endpointsContext(env, drizzle(faulty as unknown as D1Database, { schema }) as unknown as Db);
}

let sentinels = 0;
/**
 * Returns once everything emitted to this account before the call has gone out to its chat (the
 * reasoning of helpers/alert-sentinel.ts, for a chat linked to an account rather than subscribed):
 * a sentinel alert through the same queue, sent by the chat's AlertChat, nothing pending after it.
 */
async function settled(accountId: string, chatId: number): Promise<void> {
  const eventId = `test:sentinel:end:${++sentinels}`;
  await emitAlert(env, {
    eventId,
    kind: 'job_finished',
    accountId,
    at: Date.now(),
    data: { jobId: `sentinel-${sentinels}`, status: 'succeeded' },
  });
  const chat = alertChatFor(env, String(chatId));
  await eventually(async () => {
    const state = await runInDurableObject(
      chat,
      (_, c) => c.storage.sql.exec<{ state: string }>('SELECT state FROM alerts WHERE event_id = ?', eventId).toArray()[0]?.state,
    );
    expect(state, 'the sentinel alert was sent').toBe('sent');
  });
  expect((await chat.status()).pending).toBe(0);
}

/** The "ended" lines the renter read about this rental. */
async function endedLines(chatId: number, endpointId: string): Promise<string[]> {
  return (await sentTo(chatId))
    .flatMap((c) => String(c.body.text).split('\n'))
    .filter((line) => line.startsWith('⌛') && line.includes(`(${endpointId})`));
}

describe('rental_ended is not lost on a crash', () => {
  it('a crash after the stop, before the queue: the debt is in D1 with the stop, the next tick tells the renter, a third tick nothing', async () => {
    const { endpointId, accountId, chatId, end } = await rental();
    const faulty = new FaultyD1(env.DB);
    // Write 1 is the stop; the isolate dies at the next write (stopping the replica), before the queue.
    faulty.arm(2);
    const crash = await tendEndpoint(faultyContext(faulty), endpointId, end + 1000).catch((e: unknown) => e);
    expect(isSimCrash(crash), String(crash)).toBe(true);
    faulty.disarm();
    expect(await getEndpoint(testDb(), endpointId)).toMatchObject({ status: 'stopped', statusReason: 'rental_ended', endAlertDue: end });
    await settled(accountId, chatId);
    expect(await endedLines(chatId, endpointId)).toEqual([]);

    // The next minute's tick (a fresh isolate): the debt is paid, after the bill.
    await tendEndpoint(faultyContext(faulty), endpointId, end + 61_000);
    expect((await getEndpoint(testDb(), endpointId))!.endAlertDue).toBeNull();
    await settled(accountId, chatId);
    const told = await endedLines(chatId, endpointId);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(
      new RegExp(
        `^⌛ Your notebook rental \\(${endpointId}\\) ended at \\d\\d:\\d\\d UTC: its time was up\\. It cost \\d+(\\.\\d+)? tokens in all`,
      ),
    );

    // Another tick of the stopped rental: nothing is owed, nothing is sent.
    await tendEndpoint(faultyContext(faulty), endpointId, end + 121_000);
    await settled(accountId, chatId);
    expect(await endedLines(chatId, endpointId)).toHaveLength(1);
  });

  it('a crash after the queue, before the debt is cleared: the next tick sends the same event again and the renter reads it once', async () => {
    // Two rentals in the same state: the first's ending tick counts its writes (the last clears
    // the debt); the second's dies at that write, after its alert was queued.
    const counted = await rental();
    const crashed = await rental();
    const faulty = new FaultyD1(env.DB);
    faulty.arm(0);
    await tendEndpoint(faultyContext(faulty), counted.endpointId, counted.end + 1000);
    const writes = faulty.writes;
    expect((await getEndpoint(testDb(), counted.endpointId))!.endAlertDue).toBeNull();

    faulty.arm(writes);
    const crash = await tendEndpoint(faultyContext(faulty), crashed.endpointId, crashed.end + 1000).catch((e: unknown) => e);
    expect(isSimCrash(crash), String(crash)).toBe(true);
    faulty.disarm();
    // Queued (the renter is told) but the debt still stands: the crash was between the two.
    expect((await getEndpoint(testDb(), crashed.endpointId))!.endAlertDue).toBe(crashed.end);
    await settled(crashed.accountId, crashed.chatId);
    expect(await endedLines(crashed.chatId, crashed.endpointId)).toHaveLength(1);

    await tendEndpoint(faultyContext(faulty), crashed.endpointId, crashed.end + 61_000);
    expect((await getEndpoint(testDb(), crashed.endpointId))!.endAlertDue).toBeNull();
    await settled(crashed.accountId, crashed.chatId);
    expect(await endedLines(crashed.chatId, crashed.endpointId)).toHaveLength(1);
    await settled(counted.accountId, counted.chatId);
    expect(await endedLines(counted.chatId, counted.endpointId)).toHaveLength(1);
  });

  it('a queue that refuses keeps the debt past the replicas and the hold; the cron still tends the rental and tells the renter once', async () => {
    const { endpointId, accountId, chatId, end } = await rental();
    const refusing = {
      send: () => Promise.reject(new Error('queue unavailable')),
      sendBatch: () => Promise.reject(new Error('queue unavailable')),
    };
    const queueDown = endpointsContext({ ...env, ALERT_QUEUE: refusing } as unknown as typeof env);
    await tendEndpoint(queueDown, endpointId, end + 1000);
    // Two minutes on: the replica's stop is past the receipt grace, so the hold goes back too.
    await tendEndpoint(queueDown, endpointId, end + 121_000);
    const d1 = env.DB;
    const live = await d1
      .prepare('SELECT count(*) AS n FROM endpoint_replicas WHERE endpoint_id = ?1 AND stopped_at IS NULL')
      .bind(endpointId)
      .first<{ n: number }>();
    expect(live!.n).toBe(0);
    const hold = await d1.prepare('SELECT balance FROM accounts WHERE id = ?1').bind(`escrow:${endpointId}`).first<{ balance: number }>();
    expect(hold?.balance ?? 0).toBe(0);
    expect((await getEndpoint(testDb(), endpointId))!.endAlertDue).toBe(end);
    // Only the debt keeps it on the cron's list now.
    expect((await endpointsToTend(testDb(), 10_000)).map((e) => e.id)).toContain(endpointId);

    await tendEndpoints(env, end + 181_000);
    expect((await getEndpoint(testDb(), endpointId))!.endAlertDue).toBeNull();
    expect((await endpointsToTend(testDb(), 10_000)).map((e) => e.id)).not.toContain(endpointId);
    await settled(accountId, chatId);
    expect(await endedLines(chatId, endpointId)).toHaveLength(1);
  });
});
