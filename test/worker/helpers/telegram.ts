import { exports } from 'cloudflare:workers';
import { inject } from 'vitest';
import type { RecordedCall } from '../setup/telegram-api.ts';

// Talking to the Worker as Telegram does (updates posted to the real webhook route) and reading
// what the Worker sent to the Bot API stand-in. Each test uses chats of its own, because the
// stand-in is shared by every test file running in parallel.

export const WEBHOOK_SECRET = 'test-telegram-webhook-secret';
export const BOT_USERNAME = 'gridplane_test_bot';
const apiBase = () => `http://127.0.0.1:${inject('telegramApiPort')}`;

let nextUpdateId = Math.floor(Math.random() * 1e9);
export const freshUpdateId = () => ++nextUpdateId;
/** A chat (and user) id no other test uses: private chats have the user's id. */
export const freshChatId = () => 1_000_000 + Math.floor(Math.random() * 9e9);

export function postUpdate(update: Record<string, unknown>, secret: string | null = WEBHOOK_SECRET): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== null) headers['X-Telegram-Bot-Api-Secret-Token'] = secret;
  return exports.default.fetch(
    new Request('https://gridplane.test/telegram/webhook', { method: 'POST', headers, body: JSON.stringify(update) }),
  );
}

export interface ChatOptions {
  chatId?: number;
  userId?: number;
  type?: 'private' | 'group' | 'supergroup';
}

export function messageUpdate(text: string, opts: ChatOptions = {}): Record<string, unknown> {
  const userId = opts.userId ?? opts.chatId ?? freshChatId();
  const chatId = opts.chatId ?? userId;
  const type = opts.type ?? 'private';
  const command = /^\/[A-Za-z0-9_@]+/.exec(text)?.[0];
  return {
    update_id: freshUpdateId(),
    message: {
      message_id: Math.floor(Math.random() * 1e6),
      date: Math.floor(Date.now() / 1000),
      chat: type === 'private' ? { id: chatId, type, first_name: 'Ada' } : { id: chatId, type, title: 'GPU operators' },
      from: { id: userId, is_bot: false, first_name: 'Ada' },
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
    },
  };
}

export function callbackUpdate(data: string, opts: ChatOptions & { messageId?: number } = {}): Record<string, unknown> {
  const userId = opts.userId ?? opts.chatId ?? freshChatId();
  const chatId = opts.chatId ?? userId;
  return {
    update_id: freshUpdateId(),
    callback_query: {
      id: `cq${freshUpdateId()}`,
      from: { id: userId, is_bot: false, first_name: 'Ada' },
      chat_instance: `ci${chatId}`,
      data,
      message: {
        message_id: opts.messageId ?? 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: opts.type ?? 'private', first_name: 'Ada' },
        from: { id: 123456789, is_bot: true, first_name: 'gridplane' },
        text: '…',
      },
    },
  };
}

export async function botCalls(filter: { chatId?: number | string; method?: string } = {}): Promise<RecordedCall[]> {
  const params = new URLSearchParams();
  if (filter.chatId !== undefined) params.set('chatId', String(filter.chatId));
  if (filter.method) params.set('method', filter.method);
  const res = await fetch(`${apiBase()}/__requests?${params}`);
  return (await res.json()) as RecordedCall[];
}

/** Messages the bot sent to a chat (successful or not, see `status`). */
export const sentTo = (chatId: number | string) => botCalls({ chatId, method: 'sendMessage' });

export async function scriptFailure(
  chatId: number | string,
  fail: { status: number; count?: number; retryAfter?: number; delayMs?: number },
): Promise<void> {
  await fetch(`${apiBase()}/__control`, { method: 'POST', body: JSON.stringify({ chatId: String(chatId), fail }) });
}

export async function endFailure(chatId: number | string): Promise<void> {
  await fetch(`${apiBase()}/__control`, { method: 'POST', body: JSON.stringify({ chatId: String(chatId), clear: true }) });
}

/** Polls until the check passes (the bot and the alert pipeline work asynchronously). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw lastError;
}
