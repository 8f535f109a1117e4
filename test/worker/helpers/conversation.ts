import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { RecordedCall } from '../setup/telegram-api.ts';
import { botCalls, callbackUpdate, messageUpdate, postUpdate } from './telegram.ts';

// A Telegram conversation as a person has it: updates posted to the webhook exactly as Telegram
// sends them, and at each step the text and buttons the person sees (what the Bot API stand-in got).

export type Button = { text: string; callback_data?: string; url?: string };
export const buttonsOf = (call: RecordedCall) =>
  ((call.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
export const labels = (call: RecordedCall) => buttonsOf(call).map((b) => b.text);
/** The message as read: HTML tags gone, entities decoded. */
export const plain = (html: unknown) =>
  String(html)
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
export const cron = (scheduledTime: number) =>
  (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
    cron: '* * * * *',
    scheduledTime,
  });

const SHOWN = new Set(['sendMessage', 'editMessageText', 'sendPhoto']);

/** What the person sees: every message sent or edited in the chat (photos too), in order. */
export const screens = async (chatId: number) => (await botCalls({ chatId })).filter((c) => SHOWN.has(c.method));

/** Sends a message and returns the one answer it gets. */
export async function send(chatId: number, text: string): Promise<RecordedCall> {
  const before = (await screens(chatId)).length;
  expect((await postUpdate(messageUpdate(text, { chatId }))).status).toBe(200);
  const after = await screens(chatId);
  expect(after.length, `an answer to ${text}`).toBe(before + 1);
  return after.at(-1)!;
}

/** Presses a button of a screen and returns the last thing shown after it. */
export async function tap(chatId: number, screen: RecordedCall, label: string): Promise<RecordedCall> {
  const button = buttonsOf(screen).find((b) => b.text === label);
  expect(button, `no button ${label} in ${labels(screen).join(', ')}`).toBeDefined();
  const before = (await screens(chatId)).length;
  expect((await postUpdate(callbackUpdate(button!.callback_data!, { chatId, messageId: screen.seq }))).status).toBe(200);
  const after = await screens(chatId);
  expect(after.length, `something shown after ${label}`).toBeGreaterThan(before);
  return after.at(-1)!;
}

/** Presses a button and returns the short notice Telegram shows over the chat (answerCallbackQuery). */
export async function tapNotice(chatId: number, screen: RecordedCall, label: string): Promise<string> {
  const button = buttonsOf(screen).find((b) => b.text === label);
  expect(button, `no button ${label} in ${labels(screen).join(', ')}`).toBeDefined();
  const before = (await botCalls({ method: 'answerCallbackQuery' })).length;
  const update = callbackUpdate(button!.callback_data!, { chatId, messageId: screen.seq });
  expect((await postUpdate(update)).status).toBe(200);
  const id = (update.callback_query as { id: string }).id;
  const answer = (await botCalls({ method: 'answerCallbackQuery' })).slice(before).find((c) => c.body.callback_query_id === id);
  expect(answer, `an answer to the press of ${label}`).toBeDefined();
  return String(answer!.body.text ?? '');
}
