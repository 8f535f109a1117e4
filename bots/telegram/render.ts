import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import type { Reply, ReplyButton } from '../core/reply.ts';
import { fitsCallback } from './callback-data.ts';

// The Telegram face of the shared reply model: HTML text (title in bold, fields as
// "name: value" lines) and an inline keyboard. Telegram has no ephemeral messages; the bot keeps
// personal replies out of groups by policy (chat-policy.ts) instead.

export interface TelegramMessage {
  text: string;
  parse_mode: 'HTML';
  reply_markup?: InlineKeyboardMarkup;
  link_preview_options: { is_disabled: true };
}

const TONE_MARK: Record<NonNullable<Reply['tone']>, string> = { info: '', success: '✅ ', warning: '⚠️ ', error: '⛔ ' };
const BUTTONS_PER_ROW = 3;
const MAX_TEXT = 4096;

export const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderReply(reply: Reply): TelegramMessage {
  const parts: string[] = [];
  if (reply.title) parts.push(`${TONE_MARK[reply.tone ?? 'info']}<b>${escapeHtml(reply.title)}</b>`);
  for (const block of reply.blocks) parts.push(escapeHtml(block));
  if (reply.fields?.length) parts.push(reply.fields.map((f) => `<b>${escapeHtml(f.name)}:</b> ${escapeHtml(f.value)}`).join('\n'));
  if (reply.footer) parts.push(`<i>${escapeHtml(reply.footer)}</i>`);
  let text = parts.join('\n\n') || '…';
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT - 1)}…`;
  const keyboard = renderButtons(reply.buttons ?? []);
  return { text, parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...(keyboard ? { reply_markup: keyboard } : {}) };
}

export function renderButtons(buttons: ReplyButton[]): InlineKeyboardMarkup | undefined {
  const rendered: InlineKeyboardButton[] = [];
  for (const b of buttons) {
    if (b.kind === 'link') rendered.push({ text: b.label, url: b.url });
    else if (!b.disabled && fitsCallback(b.action)) rendered.push({ text: b.label, callback_data: b.action });
  }
  if (rendered.length === 0) return undefined;
  const rows: InlineKeyboardButton[][] = [];
  for (let i = 0; i < rendered.length; i += BUTTONS_PER_ROW) rows.push(rendered.slice(i, i + BUTTONS_PER_ROW));
  return { inline_keyboard: rows };
}
