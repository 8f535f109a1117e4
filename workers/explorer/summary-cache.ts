import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { buildSummary, type NetworkSummary } from './summary.ts';
import { readSummaryRows } from './summary.repo.ts';

// The summary is read by every explorer page and by every open explorer every ten seconds, so it
// is computed at most once per EXPLORER_CACHE_S per isolate (concurrent requests share one
// promise) and shared between isolates of a location through the Cache API. At 100,000 nodes a
// recompute reads each online node about three times; requests never multiply that.

const CACHE_KEY = 'https://gridplane.internal/explorer/network-summary';

let memo: { expiresAt: number; value: Promise<NetworkSummary> } | undefined;

export function networkSummary(db: Db, config: Config, nowMs = Date.now()): Promise<NetworkSummary> {
  const ttlS = config.EXPLORER_CACHE_S;
  const compute = () => readSummaryRows(db).then((rows) => buildSummary(rows, config.TOKEN_DECIMALS, nowMs));
  if (ttlS === 0) return compute();
  if (memo && memo.expiresAt > nowMs) return memo.value;
  const value = fromEdgeCache(ttlS, compute);
  memo = { expiresAt: nowMs + ttlS * 1000, value };
  value.catch(() => {
    if (memo?.value === value) memo = undefined;
  });
  return value;
}

async function fromEdgeCache(ttlS: number, compute: () => Promise<NetworkSummary>): Promise<NetworkSummary> {
  const cache = await openCache();
  const hit = await cache?.match(CACHE_KEY);
  if (hit) return (await hit.json()) as NetworkSummary;
  const summary = await compute();
  const response = new Response(JSON.stringify(summary), {
    headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${ttlS}` },
  });
  // A failed cache write costs a recompute elsewhere, never this answer.
  await cache?.put(CACHE_KEY, response).catch(() => undefined);
  return summary;
}

async function openCache(): Promise<Cache | undefined> {
  try {
    return await caches.open('gridplane-explorer');
  } catch {
    return undefined;
  }
}
