import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { confirmLink, consumeLinkToken, createLinkToken, hashLinkToken } from '../../../workers/accounts/links.ts';
import { findOrCreateWalletAccount } from '../../../workers/accounts/accounts.repo.ts';
import { alertChatFor, type ChatDeliveryStatus } from '../../../workers/alerts/alert-chat.do.ts';
import { randomWallet, testDb } from './ledger.ts';
import { freshChatId, messageUpdate, postUpdate, sentTo } from './telegram.ts';

export interface Operator {
  chatId: number;
  wallet: string;
  accountId: string;
}

/** A wallet account whose Telegram user is linked through the real link-token path. */
export async function linkedOperator(): Promise<Operator> {
  const db = testDb();
  const wallet = randomWallet();
  const account = await findOrCreateWalletAccount(db, wallet);
  const chatId = freshChatId();
  const { token, ref } = await createLinkToken(db, 'telegram', String(chatId));
  const linked = await consumeLinkToken(db, await hashLinkToken(token), account.id, Date.now());
  expect(linked).toEqual({ platform: 'telegram', platformUserId: String(chatId), platformUserName: null });
  // The chat user's Confirm in chat (the bot's button calls the same function).
  expect(await confirmLink(db, 'telegram', String(chatId), ref, Date.now())).toEqual({ accountId: account.id });
  return { chatId, wallet, accountId: account.id };
}

/** Sends a command as the operator and returns the bot's answer text. */
export async function say(op: { chatId: number }, text: string): Promise<string> {
  const before = (await sentTo(op.chatId)).length;
  const res = await postUpdate(messageUpdate(text, { chatId: op.chatId }));
  expect(res.status).toBe(200);
  const sent = await sentTo(op.chatId);
  expect(sent.length).toBe(before + 1);
  return String(sent.at(-1)!.body.text);
}

export const deliveryStatus = (chatId: number): Promise<ChatDeliveryStatus> => alertChatFor(env, String(chatId)).status();

export async function alertEvent(eventId: string) {
  return env.DB.prepare('SELECT event_id, kind, recipients, fanned_out_at FROM alert_events WHERE event_id = ?')
    .bind(eventId)
    .first<{ event_id: string; kind: string; recipients: number; fanned_out_at: number | null }>();
}

/** Links a fresh Telegram user (private chat id = user id) to an existing account. */
export async function linkTelegram(accountId: string): Promise<number> {
  const db = testDb();
  const chatId = freshChatId();
  const { token, ref } = await createLinkToken(db, 'telegram', String(chatId));
  expect(await consumeLinkToken(db, await hashLinkToken(token), accountId, Date.now())).not.toBeNull();
  expect(await confirmLink(db, 'telegram', String(chatId), ref, Date.now())).toEqual({ accountId });
  return chatId;
}
