import { describe, expect, it } from 'vitest';
import { clockTime, dateTime, dayTime, durationText, relativeTime, untilTime } from '../../../workers/lib/human-time.ts';

const now = Date.UTC(2025, 2, 14, 14, 0, 0); // 14 Mar 2025 14:00 UTC

describe('human times', () => {
  it('says how long ago, in the largest whole unit', () => {
    expect(relativeTime(now - 20_000, now)).toBe('just now');
    expect(relativeTime(now - 5 * 60_000 - 59_000, now)).toBe('5 min ago');
    expect(relativeTime(now - 3 * 3600_000 - 1, now)).toBe('3 h ago');
    expect(relativeTime(now - 24 * 3600_000, now)).toBe('1 day ago');
    expect(relativeTime(now - 50 * 3600_000, now)).toBe('2 days ago');
    expect(relativeTime(now + 25 * 60_000, now)).toBe('in 25 min');
  });

  it('gives clock times in the chat zone, naming only UTC', () => {
    expect(clockTime(Date.UTC(2025, 2, 14, 14, 30), 'UTC')).toBe('14:30 UTC');
    expect(clockTime(Date.UTC(2025, 2, 14, 14, 30), 'Europe/Berlin')).toBe('15:30');
  });

  it('adds the date only when it is not today, and the year only when it is not this year', () => {
    expect(dayTime(Date.UTC(2025, 2, 14, 9, 5), now)).toBe('09:05 UTC');
    expect(dayTime(Date.UTC(2025, 2, 3, 9, 5), now)).toBe('3 Mar 09:05 UTC');
    expect(dayTime(Date.UTC(2024, 11, 31, 23, 0), now)).toBe('31 Dec 2024 23:00 UTC');
    expect(untilTime(Date.UTC(2025, 2, 14, 14, 30), now)).toBe('until 14:30 UTC (in 30 min)');
    // A message read on later days names the date even when it is today.
    expect(dateTime(Date.UTC(2025, 2, 14, 9, 5))).toBe('14 Mar 09:05 UTC');
  });

  it('writes lengths of time without milliseconds or ISO', () => {
    expect(durationText(45)).toBe('45 s');
    expect(durationText(900)).toBe('15 min');
    expect(durationText(5400)).toBe('1 h 30 min');
    expect(durationText(7200)).toBe('2 h');
    expect(durationText(3 * 86400)).toBe('3 days');
    expect(durationText(86400 + 4 * 3600)).toBe('1 day 4 h');
  });
});
