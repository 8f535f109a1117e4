// Pure: times as a person reads them in a chat ("5 min ago", "until 14:30 UTC", "1 h 30 min"),
// never raw ISO strings with milliseconds. Every function takes the clock as an argument, so the
// same inputs always give the same text. Used by the bots' replies and the alert messages.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "2 days ago"; "in 5 min" … for times ahead. */
export function relativeTime(atMs: number, nowMs: number): string {
  const delta = nowMs - atMs;
  const span = Math.abs(delta);
  if (span < MINUTE) return delta >= 0 ? 'just now' : 'in under a minute';
  const text =
    span < HOUR ? `${Math.floor(span / MINUTE)} min` : span < DAY ? `${Math.floor(span / HOUR)} h` : plural(Math.floor(span / DAY), 'day');
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

/** "14:30 UTC" (the zone is named only for UTC: a chat's own zone is what its person expects). */
export function clockTime(atMs: number, timeZone = 'UTC'): string {
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(atMs);
  return timeZone === 'UTC' ? `${hm} UTC` : hm;
}

/** "14:30 UTC" when it is the same day as now (in the zone), "3 Mar 14:30 UTC" otherwise. */
export function dayTime(atMs: number, nowMs: number, timeZone = 'UTC'): string {
  const day = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(t);
  if (day(atMs) === day(nowMs)) return clockTime(atMs, timeZone);
  const date = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    ...(sameYear(atMs, nowMs, timeZone) ? {} : { year: 'numeric' }),
  }).format(atMs);
  return `${date} ${clockTime(atMs, timeZone)}`;
}

/**
 * "10 Mar 14:30 UTC", the date always: for a message that stays in a channel and is read on
 * later days (a proposal's end), where "today" would be wrong by tomorrow. No year: a vote or a
 * timelock spans days, not years.
 */
export function dateTime(atMs: number, timeZone = 'UTC'): string {
  const date = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short' }).format(atMs);
  return `${date} ${clockTime(atMs, timeZone)}`;
}

/** "until 14:30 UTC (in 25 min)". */
export function untilTime(atMs: number, nowMs: number, timeZone = 'UTC'): string {
  return `until ${dayTime(atMs, nowMs, timeZone)} (${relativeTime(atMs, nowMs)})`;
}

/** "45 s", "15 min", "1 h 30 min", "3 days", "2 days 4 h": a length of time in seconds. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${hours} h` : plural(days, 'day');
  return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function sameYear(a: number, b: number, timeZone: string): boolean {
  const year = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric' }).format(t);
  return year(a) === year(b);
}
