import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../workers/app.ts';
import { nodeAt } from './helpers/jobs.ts';
import { balanceOf, expectLedgerReconciles, newFundedAccount } from './helpers/ledger.ts';
import { linkTelegram } from './helpers/operator.ts';
import { staker } from './helpers/governance.ts';
import { devAccount, ownedNode } from './helpers/staking.ts';
import { botCalls, callbackUpdate, eventually, messageUpdate, postUpdate, scriptFailure, WEBHOOK_SECRET } from './helpers/telegram.ts';
import type { RecordedCall } from './setup/telegram-api.ts';

// A Telegram update whose handler times out is given back (500) and re-sent by Telegram with the
// same update_id while the first run may still be going. The retry must repeat nothing:
// idempotency keys come from the update (or its flow), never from the clock. The timeout is real:
// this Worker runs with a 300 ms handler limit and the stand-in Bot API holds the handler's first
// call to the chat (its reply, after the action) for 1.5 s.

type Keyboard = { text: string; callback_data?: string }[][];
const keyboardOf = (call: RecordedCall) =>
  ((call.body.reply_markup as { inline_keyboard?: Keyboard } | undefined)?.inline_keyboard ?? []).flat();

async function lastScreen(chatId: number): Promise<RecordedCall> {
  const calls = (await botCalls({ chatId })).filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText');
  return calls.at(-1)!;
}

async function tap(chatId: number, screen: RecordedCall, label: string): Promise<RecordedCall> {
  const button = keyboardOf(screen).find((b) => b.text === label);
  expect(button, `no button ${label}`).toBeDefined();
  expect((await postUpdate(callbackUpdate(button!.callback_data!, { chatId, messageId: screen.seq }))).status).toBe(200);
  return lastScreen(chatId);
}

/** The webhook with a short handler timeout: the same Worker code, another configuration. */
async function postWithShortTimeout(update: Record<string, unknown>): Promise<Response> {
  const request = new Request('https://gridplane.test/telegram/webhook', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': WEBHOOK_SECRET },
    body: JSON.stringify(update),
  });
  return app.fetch(request, { ...env, TELEGRAM_HANDLER_TIMEOUT_MS: '300' }, createExecutionContext());
}

/**
 * Delivers `update` so that its handler times out after the action (its reply is held), then
 * delivers it again as Telegram does; returns once both runs have sent their reply.
 */
async function deliverTwiceAfterTimeout(chatId: number, update: Record<string, unknown>, replyMethod: string): Promise<void> {
  const before = (await botCalls({ chatId, method: replyMethod })).length;
  await scriptFailure(chatId, { status: 200, delayMs: 1500, count: 1 });
  const first = await postWithShortTimeout(update);
  expect(first.status).toBe(500);
  const again = await postUpdate(update);
  expect(again.status).toBe(200);
  expect(await again.text()).not.toContain('duplicate');
  // Both runs finish: the held call is answered and the retry replied too.
  await eventually(async () =>
    expect((await botCalls({ chatId, method: replyMethod })).filter((c) => c.status === 200).length).toBeGreaterThanOrEqual(before + 2),
  );
}

describe('a retried Telegram update repeats nothing', () => {
  it('Confirm delivered twice after a handler timeout places one job and holds escrow once', async () => {
    await nodeAt(52.37, 4.9, 'NL', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }], pricePerGpuHour: '2.000000' });
    const accountId = await newFundedAccount(40_000_000);
    const chatId = await linkTelegram(accountId);
    expect((await postUpdate(messageUpdate('/rent', { chatId }))).status).toBe(200);
    let screen = await lastScreen(chatId);
    screen = await tap(chatId, screen, 'RTX 4090');
    screen = await tap(chatId, screen, '1');
    screen = await tap(chatId, screen, '1 h');
    screen = await tap(chatId, screen, 'Europe (west)');
    const confirm = keyboardOf(screen).find((b) => b.text === 'Confirm')!;
    expect(confirm.callback_data).toMatch(/^rent:/);

    await deliverTwiceAfterTimeout(chatId, callbackUpdate(confirm.callback_data!, { chatId, messageId: screen.seq }), 'sendMessage');

    const { results } = await env.DB.prepare('SELECT id, escrow_amount FROM jobs WHERE account_id = ?')
      .bind(accountId)
      .all<{ id: string; escrow_amount: number }>();
    expect(results).toHaveLength(1);
    expect(results[0]!.escrow_amount).toBe(2_000_000);
    expect(await balanceOf(accountId)).toBe(38_000_000);
    const replies = (await botCalls({ chatId, method: 'sendMessage' })).filter((c) => c.status === 200).map((c) => String(c.body.text));
    expect(replies.at(-1)).toContain(`job ${results[0]!.id}`);
    await expectLedgerReconciles();
  });

  it('/stake delivered twice after a handler timeout bonds once', async () => {
    const owner = await devAccount();
    const node = await ownedNode(owner);
    const accountId = await newFundedAccount(900_000_000);
    const chatId = await linkTelegram(accountId);

    await deliverTwiceAfterTimeout(chatId, messageUpdate(`/stake ${node.nodeId} 250`, { chatId }), 'sendMessage');

    const stake = await env.DB.prepare('SELECT amount FROM stakes WHERE account_id = ? AND node_id = ?')
      .bind(accountId, node.nodeId)
      .first<{ amount: number }>();
    expect(stake?.amount).toBe(250_000_000);
    expect(await balanceOf(accountId)).toBe(650_000_000);
    const sent = (await botCalls({ chatId, method: 'sendMessage' })).filter((c) => c.status === 200);
    expect(String(sent.at(-1)!.body.text)).toContain('250.000000 tokens bonded');
    await expectLedgerReconciles();
  });

  it('/proposal create delivered twice after a handler timeout opens one proposal', async () => {
    const proposer = await staker(1500);
    const chatId = await linkTelegram(proposer.accountId);

    await deliverTwiceAfterTimeout(chatId, messageUpdate('/proposal create text Retry-safe-signal', { chatId }), 'sendMessage');

    const { results } = await env.DB.prepare('SELECT number, idempotency_key FROM proposals WHERE proposer_account_id = ?')
      .bind(proposer.accountId)
      .all<{ number: number; idempotency_key: string }>();
    expect(results).toHaveLength(1);
    expect(results[0]!.idempotency_key).toMatch(/^chat:telegram:u[0-9a-z]+$/);
    // Both runs answered with the same proposal.
    const sent = (await botCalls({ chatId, method: 'sendMessage' })).filter((c) => c.status === 200).map((c) => String(c.body.text));
    expect(sent.filter((t) => t.includes(`Proposal #${results[0]!.number} is open`))).toHaveLength(2);
  });

  it('a quote shown twice by one rent flow rents once from either copy', async () => {
    await nodeAt(40.4, -3.7, 'ES', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 }], pricePerGpuHour: '1.000000' });
    const accountId = await newFundedAccount(40_000_000);
    const chatId = await linkTelegram(accountId);
    await postUpdate(messageUpdate('/rent', { chatId }));
    let screen = await lastScreen(chatId);
    screen = await tap(chatId, screen, 'RTX 4090');
    screen = await tap(chatId, screen, '1');
    screen = await tap(chatId, screen, '1 h');
    screen = await tap(chatId, screen, 'Europe (west)');
    const confirm = keyboardOf(screen).find((b) => b.text === 'Confirm')!.callback_data!;
    // The Confirm button names the flow, not the moment it was drawn.
    const flowId = /rf:([a-z0-9]{10}):/.exec(
      String(keyboardOf((await botCalls({ chatId, method: 'sendMessage' }))[0]!)[0]!.callback_data),
    )![1];
    expect(confirm.endsWith(`:f${flowId}`)).toBe(true);
    // Two presses as two different updates (two copies of the quote): one job.
    await postUpdate(callbackUpdate(confirm, { chatId, messageId: screen.seq }));
    await postUpdate(callbackUpdate(confirm, { chatId, messageId: screen.seq + 1 }));
    const { results } = await env.DB.prepare('SELECT id FROM jobs WHERE account_id = ?').bind(accountId).all();
    expect(results).toHaveLength(1);
    expect(await balanceOf(accountId)).toBe(39_000_000);
  });
});
