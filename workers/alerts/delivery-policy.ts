// Pure rules for delivering a chat's alerts: when the next message may go, how long to back off,
// quiet hours, and what a Bot API failure means. No I/O; alert-chat.do.ts applies them.

/** Telegram allows about one message per second in a single chat. */
export const CHAT_INTERVAL_MS = 1000;

export interface DeliveryTiming {
  groupWindowMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface DeliveryState {
  /** received_at of the oldest pending alert; null when nothing is pending. */
  oldestPendingAt: number | null;
  lastSentAt: number;
  /** Not before this (retry_after or backoff); 0 when free. */
  retryAt: number;
}

/** The earliest moment the next message may be sent, ignoring quiet hours; null when idle. */
export function nextSendAt(state: DeliveryState, timing: DeliveryTiming): number | null {
  if (state.oldestPendingAt === null) return null;
  return Math.max(state.oldestPendingAt + timing.groupWindowMs, state.lastSentAt + CHAT_INTERVAL_MS, state.retryAt);
}

/** Exponential backoff with full jitter in its upper half: attempt 1 waits about base. */
export function backoffMs(attempt: number, timing: DeliveryTiming, random = Math.random()): number {
  const ceiling = Math.min(timing.retryMaxMs, timing.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export type SendFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'transient'; reason: string }
  | { kind: 'permanent'; reason: string };

/**
 * 429 waits exactly as long as Telegram says; 5xx, network errors and timeouts are retried with
 * backoff; other 4xx (bot blocked, chat gone, bad request) cannot succeed by retrying.
 */
export function classifySendFailure(failure: { status?: number; retryAfterS?: number; description?: string }): SendFailure {
  const reason = failure.description ?? (failure.status ? `status ${failure.status}` : 'network error');
  if (failure.status === 429) return { kind: 'rate_limited', retryAfterMs: Math.max(1, failure.retryAfterS ?? 1) * 1000 };
  if (failure.status === undefined || failure.status >= 500 || failure.status === 408) return { kind: 'transient', reason };
  return { kind: 'permanent', reason };
}

export interface QuietHours {
  quietStartMin: number | null;
  quietEndMin: number | null;
  timeZone: string;
}

/** Minutes after local midnight at `atMs` in the time zone. */
export function localMinuteOfDay(atMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(atMs);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

/** When quiet hours hold at `atMs`, the moment they end; otherwise null. Windows may wrap midnight. */
export function quietUntil(atMs: number, quiet: QuietHours): number | null {
  const { quietStartMin: start, quietEndMin: end } = quiet;
  if (start === null || end === null || start === end) return null;
  const now = localMinuteOfDay(atMs, quiet.timeZone);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const minutesLeft = (end - now + 1440) % 1440;
  return atMs - (atMs % 60_000) + minutesLeft * 60_000;
}

/** "22:00-07:00" → minutes after midnight; null when malformed. */
export function parseQuietHours(text: string): { startMin: number; endMin: number } | null {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)\s*[-–]\s*([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!match) return null;
  const startMin = Number(match[1]) * 60 + Number(match[2]);
  const endMin = Number(match[3]) * 60 + Number(match[4]);
  return startMin === endMin ? null : { startMin, endMin };
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}
