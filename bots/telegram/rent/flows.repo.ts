import { shortId } from '../callback-data.ts';
import type { RentState, RentStep } from './rent-flow.ts';

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

export async function createRentFlow(db: D1Database, chatId: string, userId: string, state: RentState, nowMs: number): Promise<FlowRow> {
  const id = shortId();
  await db
    .prepare(
      `INSERT INTO telegram_flows (id, kind, chat_id, user_id, step, state, version, created_at, updated_at, expires_at)
       VALUES (?, 'rent', ?, ?, 'gpu', ?, 0, ?, ?, ?)`,
    )
    .bind(id, chatId, userId, JSON.stringify(state), nowMs, nowMs, nowMs + FLOW_TTL_MS)
    .run();
  return { id, chatId, userId, step: 'gpu', state, version: 0 };
}

export async function getFlow(db: D1Database, id: string, nowMs: number): Promise<FlowRow | null> {
  const row = await db
    .prepare('SELECT id, chat_id, user_id, step, state, version FROM telegram_flows WHERE id = ? AND expires_at > ?')
    .bind(id, nowMs)
    .first<{ id: string; chat_id: string; user_id: string; step: RentStep; state: string; version: number }>();
  return row ? { id: row.id, chatId: row.chat_id, userId: row.user_id, step: row.step, state: JSON.parse(row.state) as RentState, version: row.version } : null;
}

/** Moves the flow on only from the version the button was drawn for: a stale or doubled tap loses. */
export async function moveFlow(db: D1Database, flow: FlowRow, step: RentStep, state: RentState, nowMs: number): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE telegram_flows SET step = ?, state = ?, version = version + 1, updated_at = ?, expires_at = ?
       WHERE id = ? AND version = ? RETURNING version`,
    )
    .bind(step, JSON.stringify(state), nowMs, nowMs + FLOW_TTL_MS, flow.id, flow.version)
    .first<{ version: number }>();
  return row !== null;
}

export async function endFlow(db: D1Database, id: string): Promise<void> {
  await db.prepare('DELETE FROM telegram_flows WHERE id = ?').bind(id).run();
}

export async function onlineGpuModels(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare(`SELECT DISTINCT g.canonical_model AS model FROM node_gpus g JOIN nodes n ON n.id = g.node_id WHERE n.status = 'online' AND n.suspended = 0`)
    .all<{ model: string }>();
  return results.map((r) => r.model);
}
