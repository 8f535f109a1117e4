import { describe, expect, it } from 'vitest';
import { heartbeat } from './helpers/agent.ts';
import { json, nodeAt, sendEvent } from './helpers/jobs.ts';
import { balanceOf, newFundedAccount } from './helpers/ledger.ts';
import { linkTelegram, say } from './helpers/operator.ts';
import { botCalls, callbackUpdate, messageUpdate, postUpdate, type ChatOptions } from './helpers/telegram.ts';
import type { RecordedCall } from './setup/telegram-api.ts';

type Keyboard = { text: string; callback_data?: string }[][];
const keyboardOf = (call: RecordedCall) =>
  ((call.body.reply_markup as { inline_keyboard?: Keyboard } | undefined)?.inline_keyboard ?? []).flat();
const encoder = new TextEncoder();

/** The last message the bot sent or edited in the chat (the flow edits one message in place). */
async function lastScreen(chatId: number): Promise<RecordedCall> {
  const calls = (await botCalls({ chatId })).filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText');
  return calls.at(-1)!;
}

async function tap(chatId: number, screen: RecordedCall, label: string | RegExp): Promise<RecordedCall> {
  const buttons = keyboardOf(screen);
  const button = buttons.find((b) => (typeof label === 'string' ? b.text === label : label.test(b.text)));
  expect(button, `no button ${label} in ${buttons.map((b) => b.text).join(', ')}`).toBeDefined();
  for (const b of buttons) if (b.callback_data) expect(encoder.encode(b.callback_data).length).toBeLessThanOrEqual(64);
  const opts: ChatOptions & { messageId: number } = { chatId, messageId: screen.seq };
  const before = (await botCalls({ chatId })).length;
  expect((await postUpdate(callbackUpdate(button!.callback_data!, opts))).status).toBe(200);
  const answered = await botCalls({ method: 'answerCallbackQuery' });
  expect(answered.length).toBeGreaterThan(0);
  expect((await botCalls({ chatId })).length).toBeGreaterThan(before);
  return lastScreen(chatId);
}

describe('/rent in Telegram', () => {
  it('goes from the first tap to a running job', async () => {
    const node = await nodeAt(48.86, 2.35, 'FR', {
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 }],
      pricePerGpuHour: '1.500000',
    });
    const accountId = await newFundedAccount(100_000_000);
    const chatId = await linkTelegram(accountId);

    expect((await postUpdate(messageUpdate('/rent', { chatId }))).status).toBe(200);
    let screen = await lastScreen(chatId);
    expect(screen.method).toBe('sendMessage');
    expect(String(screen.body.text)).toBe('Rent GPUs — which model?');
    // Only what is online is offered.
    expect(keyboardOf(screen).map((b) => b.text)).toEqual(['RTX 4090', '✖ Cancel']);

    screen = await tap(chatId, screen, 'RTX 4090');
    expect(screen.method).toBe('editMessageText');
    expect(String(screen.body.text)).toBe('RTX 4090: how many GPUs? (up to 2 on one node now)');
    expect(keyboardOf(screen).map((b) => b.text)).toEqual(['1', '2', '◀ Back', '✖ Cancel']);
    screen = await tap(chatId, screen, '2');
    expect(String(screen.body.text)).toBe('2× RTX 4090: for how long?');
    screen = await tap(chatId, screen, '1 h');
    expect(String(screen.body.text)).toMatch(/where are you\?$/);
    screen = await tap(chatId, screen, 'Europe (west)');

    // The quote: the shared layer's, rendered for Telegram, with Confirm and Cancel.
    const quote = String(screen.body.text);
    expect(quote).toContain('<b>2× RTX 4090 for 1 h</b>');
    expect(quote).toContain('Best offer: 1.500000 per GPU-hour');
    expect(quote).toContain('Held in escrow when you confirm: 3.000000 tokens');
    expect(screen.body.parse_mode).toBe('HTML');

    const done = await tap(chatId, screen, 'Confirm');
    const text = String(done.body.text);
    const jobId = /job (job_[0-9a-f]{32}) is assigned/.exec(text)?.[1];
    expect(jobId, text).toBeDefined();
    expect(text).toContain(node.nodeId);
    expect(await balanceOf(accountId)).toBe(97_000_000);

    // The node picks it up and runs it.
    const hb = await json<{ jobs: { id: string }[] }>(await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()), 200);
    expect(hb.jobs.map((j) => j.id)).toContain(jobId);
    expect((await sendEvent(node, jobId!, { kind: 'accepted' })).status).toBe(200);
    expect((await sendEvent(node, jobId!, { kind: 'started' })).status).toBe(200);
    expect(
      (await sendEvent(node, jobId!, { kind: 'log', seq: 1, stream: 'stdout', data: 'GPU 0: NVIDIA GeForce RTX 4090\n' })).status,
    ).toBe(200);

    const status = await say({ chatId }, `/job ${jobId}`);
    expect(status).toContain(`<b>${jobId} — running</b>`);
    expect(status).toContain('GPU 0: NVIDIA GeForce RTX 4090');
  });

  it('a second tap on a finished step does nothing, and Confirm twice rents once', async () => {
    await nodeAt(35.68, 139.69, 'JP', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }] });
    const accountId = await newFundedAccount(50_000_000);
    const chatId = await linkTelegram(accountId);
    await postUpdate(messageUpdate('/rent', { chatId }));
    const first = await lastScreen(chatId);
    await tap(chatId, first, 'RTX 4090');
    // The same button again: the flow has moved on, nothing changes.
    const callsBefore = (await botCalls({ chatId })).length;
    const stale = keyboardOf(first).find((b) => b.text === 'RTX 4090')!;
    await postUpdate(callbackUpdate(stale.callback_data!, { chatId, messageId: first.seq }));
    expect((await botCalls({ chatId })).length).toBe(callsBefore);

    let screen = await lastScreen(chatId);
    screen = await tap(chatId, screen, '1');
    screen = await tap(chatId, screen, '2 h');
    screen = await tap(chatId, screen, 'Asia (east)');
    const confirm = keyboardOf(screen).find((b) => b.text === 'Confirm')!;
    await postUpdate(callbackUpdate(confirm.callback_data!, { chatId, messageId: screen.seq }));
    await postUpdate(callbackUpdate(confirm.callback_data!, { chatId, messageId: screen.seq }));
    const replies = (await botCalls({ chatId, method: 'sendMessage' })).map((c) => String(c.body.text)).filter((t) => /job job_/.test(t));
    expect(replies).toHaveLength(2);
    expect(replies[1]).toContain('Already rented');
    expect(/job (job_\w+)/.exec(replies[0]!)![1]).toBe(/job (job_\w+)/.exec(replies[1]!)![1]);
    // One escrow of 1 GPU × 2 h × 1.25.
    expect(await balanceOf(accountId)).toBe(47_500_000);
  });

  it('can be cancelled, and asks for a linked wallet before the first tap', async () => {
    await nodeAt(50.1, 8.7, 'DE');
    const chatId = 77_000_000 + Math.floor(Math.random() * 1e6);
    // Unlinked: the answer is the link, with its button, not four taps and then a dead end.
    await postUpdate(messageUpdate('/rent', { chatId }));
    let screen = await lastScreen(chatId);
    expect(String(screen.body.text)).toMatch(/Link your wallet first/);
    expect(keyboardOf(screen).map((b) => b.text)).toEqual(['Link my wallet']);

    const linked = await linkTelegram(await newFundedAccount(0));
    await postUpdate(messageUpdate('/rent', { chatId: linked }));
    screen = await lastScreen(linked);
    screen = await tap(linked, screen, '✖ Cancel');
    expect(String(screen.body.text)).toBe('Rental cancelled; nothing was held.');
  });
});
