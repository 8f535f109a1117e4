import { describe, expect, it } from 'vitest';
import { logLines } from '../../../workers/jobs/log-caps.ts';

describe('logLines', () => {
  it('counts newlines, an unfinished last line, and at least one per chunk', () => {
    expect(logLines('a\nb\n')).toBe(2);
    expect(logLines('a\nb')).toBe(2);
    expect(logLines('\n\n\n')).toBe(3);
    expect(logLines('no newline')).toBe(1);
    expect(logLines('')).toBe(1);
  });
});
