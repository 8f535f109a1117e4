// Small parsers for command-line values; each throws a UsageError naming the option.

export class UsageError extends Error {
  override name = 'UsageError';
}

/** "90", "90s", "10m", "2h", "1d" → seconds. */
export function parseDuration(text: string, option = '--duration'): number {
  const match = /^([0-9]+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option}: "${text}" is not a duration such as 90s, 10m or 2h.`);
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new UsageError(`${option}: must be at least 1 second.`);
  return seconds;
}

export function parseIntOption(text: string | undefined, option: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min) throw new UsageError(`${option}: "${text}" is not a whole number of at least ${min}.`);
  return Number(text);
}

export function parseCoordinate(text: string | undefined, option: string, limit: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || Math.abs(value) > limit)
    throw new UsageError(`${option}: "${text}" is not a number between -${limit} and ${limit}.`);
  return value;
}

/** Repeated `--env NAME=value`. */
export function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--env: "${pair}" is not NAME=value.`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
