import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../workers/app.ts';
import { nodeAt } from './helpers/jobs.ts';
import { newFundedAccount } from './helpers/ledger.ts';
import { linkTelegram } from './helpers/operator.ts';
import { botCalls, callbackUpdate, messageUpdate, WEBHOOK_SECRET } from './helpers/telegram.ts';
import type { RecordedCall } from './setup/telegram-api.ts';

// A chat quote (/rent through the real Telegram webhook) and an API quote (POST /v1/quotes) of the
// same request rank the same nodes in the same order, under routing weights that are not the
// defaults: both run the one quote function with the configured weights. The Worker runs here
// with ROUTING_WEIGHTS set (the same code, another configuration), and the test first checks that
// those weights really reorder these nodes, so it would catch a chat that ranked with the defaults.

const PRICE_ONLY = { ...env, ROUTING_WEIGHTS: JSON.stringify({ latency: 0, price: 1, reputation: 0, stake: 0, uptime: 0 }) } as typeof env;

type Keyboard = { text: string; callback_data?: string }[][];
const keyboardOf = (call: RecordedCall) =>
  ((call.body.reply_markup as { inline_keyboard?: Keyboard } | undefined)?.inline_keyboard ?? []).flat();

async function lastScreen(chatId: number): Promise<RecordedCall> {
  const calls = (await botCalls({ chatId })).filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText');
  return calls.at(-1)!;
}

async function fetchIn(workerEnv: typeof env, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const request = new Request(`https://gridplane.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return app.fetch(request, workerEnv, createExecutionContext());
}

const postUpdateIn = (workerEnv: typeof env, update: Record<string, unknown>) =>
  fetchIn(workerEnv, '/telegram/webhook', update, { 'X-Telegram-Bot-Api-Secret-Token': WEBHOOK_SECRET });

async function tapIn(workerEnv: typeof env, chatId: number, screen: RecordedCall, label: string): Promise<RecordedCall> {
  const button = keyboardOf(screen).find((b) => b.text === label);
  expect(
    button,
    `no button ${label} in ${keyboardOf(screen)
      .map((b) => b.text)
      .join(', ')}`,
  ).toBeDefined();
  expect((await postUpdateIn(workerEnv, callbackUpdate(button!.callback_data!, { chatId, messageId: screen.seq }))).status).toBe(200);
  return lastScreen(chatId);
}

/** The node-id prefixes of the quote's fields ("1. FR 4Hx9…: 3.000000/GPU-h · ~17 ms"), in order. */
const chatRanking = (text: string) => [...text.matchAll(/<b>\d+\. \w* (\w{8})…:<\/b>/g)].map((m) => m[1]!);

async function apiRanking(workerEnv: typeof env): Promise<string[]> {
  const res = await fetchIn(workerEnv, '/v1/quotes', {
    gpu: { model: 'RTX 4090', count: 1 },
    durationS: 3600,
    client: { lat: 48.85, lon: 2.35 },
    limit: 3,
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { candidates: { nodeId: string }[] };
  return body.candidates.map((c) => c.nodeId.slice(0, 8));
}

describe('chat quote and API quote', () => {
  it('rank the same nodes in the same order under non-default routing weights', async () => {
    // Paris is nearest Europe (west) but dearest; Frankfurt and Madrid are further and cheaper.
    const gpus = [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }];
    await nodeAt(48.86, 2.35, 'FR', { gpus, pricePerGpuHour: '3.000000' });
    await nodeAt(50.1, 8.7, 'DE', { gpus, pricePerGpuHour: '1.000000' });
    await nodeAt(40.4, -3.7, 'ES', { gpus, pricePerGpuHour: '2.000000' });

    const configured = await apiRanking(PRICE_ONLY);
    expect(configured).toHaveLength(3);
    // The weights matter for these nodes: the defaults order them otherwise.
    expect(await apiRanking(env)).not.toEqual(configured);

    const chatId = await linkTelegram(await newFundedAccount(100_000_000));
    expect((await postUpdateIn(PRICE_ONLY, messageUpdate('/rent', { chatId }))).status).toBe(200);
    let screen = await lastScreen(chatId);
    for (const label of ['RTX 4090', '1', '1 h', 'Europe (west)']) screen = await tapIn(PRICE_ONLY, chatId, screen, label);
    const quote = String(screen.body.text);
    expect(quote).toContain('<b>1× RTX 4090 for 1 h</b>');
    expect(chatRanking(quote)).toEqual(configured);
  });
});
