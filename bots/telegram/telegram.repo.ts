import type { Db } from '../../workers/app-env.ts';
import { shortId } from './callback-data.ts';
import type { RentState, RentStep } from './rent/rent-flow.ts';

// The Telegram bot's own tables, and the only code that touches them: `telegram_updates` (one
// claim per update id, so Telegram's retries run once) and `telegram_flows` (the guided /rent's
// state, versioned so a stale or doubled tap loses). Domain data is never read here: the bot
// reaches it through ctx.ops (bots/core/bot-ops.ts).

/** Telegram stops re-sending an update long before this; older claims are pruned by the cron. */
export const UPDATE_CLAIM_TTL_MS = 24 * 3600_000;
/** A flow the user abandons is forgotten after this (the cron prunes it). */
export const FLOW_TTL_MS = 30 * 60_000;

export interface FlowRow {
  id: string;
  chatId: string;
  userId: string;
  step: RentStep;
  state: RentState;
  version: number;
}

/** The repo bound to the Worker's D1, handed to the bot for one update (TelegramDeps.repo). */
export function telegramRepo(db: Db) {
  const d1 = db.$client;
  return {
    /**
     * True for the first request that claims this update id, false for every repeat (Telegram
     * retries until it gets a 2xx, so the same update can arrive several times, even concurrently).
     */
    async claimUpdate(updateId: number, nowMs: number): Promise<boolean> {
      const row = await d1
        .prepare('INSERT INTO telegram_updates (update_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING 1 AS claimed')
        .bind(updateId, nowMs)
        .first<{ claimed: number }>();
      return row !== null;
    },

    /** Gives an update back when handling failed before any reply, so Telegram's retry is handled. */
    async releaseUpdate(updateId: number): Promise<void> {
      await d1.prepare('DELETE FROM telegram_updates WHERE update_id = ?').bind(updateId).run();
    },

    async createRentFlow(chatId: string, userId: string, state: RentState, nowMs: number): Promise<FlowRow> {
      const id = shortId();
      await d1
        .prepare(
          `INSERT INTO telegram_flows (id, kind, chat_id, user_id, step, state, version, created_at, updated_at, expires_at)
           VALUES (?, 'rent', ?, ?, 'gpu', ?, 0, ?, ?, ?)`,
        )
        .bind(id, chatId, userId, JSON.stringify(state), nowMs, nowMs, nowMs + FLOW_TTL_MS)
        .run();
      return { id, chatId, userId, step: 'gpu', state, version: 0 };
    },

    async getFlow(id: string, nowMs: number): Promise<FlowRow | null> {
      const row = await d1
        .prepare('SELECT id, chat_id, user_id, step, state, version FROM telegram_flows WHERE id = ? AND expires_at > ?')
        .bind(id, nowMs)
        .first<{ id: string; chat_id: string; user_id: string; step: RentStep; state: string; version: number }>();
      return row
        ? {
            id: row.id,
            chatId: row.chat_id,
            userId: row.user_id,
            step: row.step,
            state: JSON.parse(row.state) as RentState,
            version: row.version,
          }
        : null;
    },

    /** Moves the flow on only from the version the button was drawn for: a stale or doubled tap loses. */
    async moveFlow(flow: FlowRow, step: RentStep, state: RentState, nowMs: number): Promise<boolean> {
      const row = await d1
        .prepare(
          `UPDATE telegram_flows SET step = ?, state = ?, version = version + 1, updated_at = ?, expires_at = ?
           WHERE id = ? AND version = ? RETURNING version`,
        )
        .bind(step, JSON.stringify(state), nowMs, nowMs + FLOW_TTL_MS, flow.id, flow.version)
        .first<{ version: number }>();
      return row !== null;
    },

    async endFlow(id: string): Promise<void> {
      await d1.prepare('DELETE FROM telegram_flows WHERE id = ?').bind(id).run();
    },
  };
}

export type TelegramRepo = ReturnType<typeof telegramRepo>;

/** Old update claims and expired flows go (the minute cron, through the chat-state port). */
export async function pruneTelegramState(db: Db, nowMs: number): Promise<void> {
  const d1 = db.$client;
  await d1.batch([
    d1.prepare('DELETE FROM telegram_updates WHERE received_at < ?').bind(nowMs - UPDATE_CLAIM_TTL_MS),
    d1.prepare('DELETE FROM telegram_flows WHERE expires_at < ?').bind(nowMs),
  ]);
}
