import { z } from 'zod';
import type { Env } from './env.ts';

const intFromString = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const configSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'test', 'production']),
  ADMIN_TOKEN: z.string().min(16).optional(),
  TOKEN_DECIMALS: intFromString(0, 12, 6),
  HEARTBEAT_INTERVAL_S: intFromString(1, 3600, 30),
  HEARTBEAT_SHARDS: intFromString(1, 1024, 32),
  LIVE_FOLD_INTERVAL_S: intFromString(1, 86_400, 900),
  EXPLORER_CACHE_S: intFromString(0, 300, 5),
});

export type Config = z.infer<typeof configSchema> & {
  /** A node that misses this many heartbeat intervals is offline. */
  missedHeartbeatsOffline: number;
  isDevelopment: boolean;
};

const cache = new WeakMap<object, Config>();

/** Parsed once per env object; a bad configuration fails loudly with the offending names. */
export function getConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`gridplane configuration is invalid: ${names}`);
  }
  const config: Config = {
    ...parsed.data,
    missedHeartbeatsOffline: 3,
    isDevelopment: parsed.data.ENVIRONMENT !== 'production',
  };
  cache.set(env, config);
  return config;
}
