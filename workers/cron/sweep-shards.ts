import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { shardByIndex } from '../live/shard-stub.ts';

/**
 * Every minute: each shard marks its silent nodes offline and flushes pending transitions.
 * Shards are independent, so they run concurrently; one failing shard does not stop the rest.
 */
export async function sweepShards(env: Env, nowMs: number) {
  const count = getConfig(env).HEARTBEAT_SHARDS;
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => shardByIndex(env, i).sweep(nowMs)));
  let wentOffline = 0;
  let failed = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') wentOffline += r.value.wentOffline;
    else {
      failed++;
      console.error('shard sweep failed', r.reason);
    }
  }
  return { shards: count, wentOffline, failed };
}
