import { DurableObject } from 'cloudflare:workers';
import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { DEFAULT_PREFS, type ChatAlert, type ChatPrefs } from './alert-event.ts';
import { renderAlerts } from './alert-text.ts';
import { backoffMs, nextSendAt, quietUntil, type DeliveryTiming } from './delivery-policy.ts';
import { sendDiscordDm } from './discord-send.ts';
import { alertApi, sendAlertMessage } from './telegram-send.ts';

/** Delivered alerts are kept this long, so a late repeat of an event id is still recognised. */
const KEEP_SENT_MS = 7 * 24 * 3600_000;
/** Alerts considered for one message; the renderer may take fewer to stay under Telegram's limit. */
const BATCH = 200;

export interface ChatDeliveryStatus {
  pending: number;
  sent: number;
  dropped: number;
  attempts: number;
  lastSentAt: number;
  retryAt: number;
  nextAlarmAt: number | null;
}

/**
 * The outbox of one Telegram chat. Alerts wait here, in the object's own SQLite, until Telegram
 * has accepted a message holding them: arrivals within the grouping window go out together, at
 * most one message a second, a 429 waits its `retry_after`, 5xx and network errors back off, and
 * quiet hours hold everything until they end. Repeats of an event id are ignored.
 */
export class AlertChat extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS alerts (
        event_id TEXT PRIMARY KEY, kind TEXT NOT NULL, node_id TEXT, node_name TEXT, at INTEGER NOT NULL,
        data TEXT NOT NULL, received_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
        done_at INTEGER, message_id INTEGER, note TEXT
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, received_at);
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
  }

  /** Adds alerts (repeats of an event id are ignored) and schedules delivery. */
  async enqueue(chatId: string, alerts: ChatAlert[], prefs: ChatPrefs): Promise<{ added: number }> {
    const now = Date.now();
    this.setMeta('chat_id', chatId);
    this.setMeta('prefs', JSON.stringify(prefs));
    let added = 0;
    for (const a of alerts) {
      const rows = this.sql
        .exec(
          `INSERT INTO alerts (event_id, kind, node_id, node_name, at, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
          a.eventId,
          a.kind,
          a.nodeId,
          a.nodeName,
          a.at,
          JSON.stringify(a.data),
          now,
        )
        .toArray();
      added += rows.length;
    }
    await this.schedule(now);
    return { added };
  }

  /** New quiet hours or time zone take effect for what is already waiting. */
  async setPrefs(chatId: string, prefs: ChatPrefs): Promise<void> {
    this.setMeta('chat_id', chatId);
    this.setMeta('prefs', JSON.stringify(prefs));
    await this.schedule(Date.now());
  }

  async status(): Promise<ChatDeliveryStatus> {
    const count = (state: string) => this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM alerts WHERE state = ?', state).one().n;
    return {
      pending: count('pending'),
      sent: count('sent'),
      dropped: count('dropped'),
      attempts: Number(this.meta('attempts') ?? 0),
      lastSentAt: Number(this.meta('last_sent_at') ?? 0),
      retryAt: Number(this.meta('retry_at') ?? 0),
      nextAlarmAt: await this.ctx.storage.getAlarm(),
    };
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      await this.deliver(now);
    } catch (error) {
      // Never let the platform's own alarm retries take over: keep our pacing and backoff.
      console.error('alert delivery failed unexpectedly', error);
      this.recordFailure(now, undefined);
    }
    this.sql.exec("DELETE FROM alerts WHERE state <> 'pending' AND done_at < ?", now - KEEP_SENT_MS);
    await this.schedule(Date.now());
  }

  private async deliver(now: number): Promise<void> {
    const chatId = this.meta('chat_id');
    const due = this.dueAt(now);
    if (!chatId || due === null || due > now) return;
    const config = getConfig(this.env);
    // `discord:<user id>` is a renter's Discord DM (alert-event.ts privateChatId); the rest are Telegram chats.
    const discordUser = /^discord:([0-9]+)$/.exec(chatId)?.[1];
    const api = discordUser ? null : alertApi(config);
    if (!discordUser && !api) {
      console.error('alerts pending but TELEGRAM_BOT_TOKEN is not set');
      this.recordFailure(now, undefined);
      return;
    }
    const rows = this.sql
      .exec<{ event_id: string; kind: ChatAlert['kind']; node_id: string | null; node_name: string | null; at: number; data: string }>(
        "SELECT event_id, kind, node_id, node_name, at, data FROM alerts WHERE state = 'pending' ORDER BY received_at, event_id LIMIT ?",
        BATCH,
      )
      .toArray();
    if (rows.length === 0) return;
    const alerts: ChatAlert[] = rows.map((r) => ({
      eventId: r.event_id,
      kind: r.kind,
      nodeId: r.node_id,
      nodeName: r.node_name,
      at: r.at,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
    const message = renderAlerts(alerts, { timeZone: this.prefs().timeZone, tokenDecimals: config.TOKEN_DECIMALS, nowMs: now });
    const result = discordUser
      ? await sendDiscordDm(config, discordUser, message.text, message.buttons)
      : await sendAlertMessage(api!, chatId, message.text, message.buttons);
    const ids = JSON.stringify(message.eventIds);
    const doneAt = Date.now();
    if (result.ok) {
      this.sql.exec(
        "UPDATE alerts SET state = 'sent', done_at = ?, message_id = ? WHERE event_id IN (SELECT value FROM json_each(?)) AND state = 'pending'",
        doneAt,
        result.messageId,
        ids,
      );
      this.setMeta('last_sent_at', String(doneAt));
      this.setMeta('attempts', '0');
      this.setMeta('retry_at', '0');
      return;
    }
    const failure = result.failure;
    if (failure.kind === 'permanent') {
      // The chat blocked the bot or is gone: retrying cannot help, so these are dropped, loudly.
      console.error(`alerts for chat ${chatId} dropped: ${failure.reason}`);
      this.sql.exec(
        "UPDATE alerts SET state = 'dropped', done_at = ?, note = ? WHERE event_id IN (SELECT value FROM json_each(?)) AND state = 'pending'",
        doneAt,
        failure.reason,
        ids,
      );
      this.setMeta('last_sent_at', String(doneAt));
      return;
    }
    if (failure.kind === 'rate_limited') {
      this.setMeta('attempts', String(Number(this.meta('attempts') ?? 0) + 1));
      this.setMeta('retry_at', String(doneAt + failure.retryAfterMs));
      return;
    }
    this.recordFailure(doneAt, failure.reason);
  }

  private recordFailure(now: number, reason: string | undefined): void {
    const attempts = Number(this.meta('attempts') ?? 0) + 1;
    this.setMeta('attempts', String(attempts));
    this.setMeta('retry_at', String(now + backoffMs(attempts, this.timing())));
    if (reason) console.warn(`alert send failed (attempt ${attempts}): ${reason}`);
  }

  /** When the next message may go: grouping window, pacing, backoff, then quiet hours. */
  private dueAt(now: number): number | null {
    const oldest = this.sql.exec<{ t: number | null }>("SELECT min(received_at) AS t FROM alerts WHERE state = 'pending'").one().t;
    const at = nextSendAt(
      { oldestPendingAt: oldest, lastSentAt: Number(this.meta('last_sent_at') ?? 0), retryAt: Number(this.meta('retry_at') ?? 0) },
      this.timing(),
    );
    if (at === null) return null;
    const candidate = Math.max(at, now);
    return quietUntil(candidate, this.prefs()) ?? at;
  }

  private async schedule(now: number): Promise<void> {
    const due = this.dueAt(now);
    if (due === null) {
      const sentLeft = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alerts WHERE state <> 'pending'").one().n;
      // Keep one daily alarm while delivered rows remain, so they are pruned.
      if (sentLeft > 0) await this.ctx.storage.setAlarm(now + 24 * 3600_000);
      else await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.max(due, now));
  }

  private timing(): DeliveryTiming {
    const c = getConfig(this.env);
    return { groupWindowMs: c.ALERT_GROUP_WINDOW_MS, retryBaseMs: c.ALERT_RETRY_BASE_MS, retryMaxMs: c.ALERT_RETRY_MAX_MS };
  }

  private prefs(): ChatPrefs {
    const raw = this.meta('prefs');
    return raw ? { ...DEFAULT_PREFS, ...(JSON.parse(raw) as Partial<ChatPrefs>) } : DEFAULT_PREFS;
  }

  private meta(name: string): string | undefined {
    return this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE name = ?', name).toArray()[0]?.value;
  }

  private setMeta(name: string, value: string): void {
    this.sql.exec('INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2', name, value);
  }
}

export function alertChatFor(env: Env, chatId: string): DurableObjectStub<AlertChat> {
  const ns = env.ALERT_CHAT as DurableObjectNamespace<AlertChat>;
  return ns.get(ns.idFromName(`chat:${chatId}`));
}
