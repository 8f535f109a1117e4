import type { AlertEvent } from './alert-event.ts';

// GPU temperature alerts come from heartbeats, but only on a crossing: a node that runs hot for
// hours raises one alert, and must cool HYSTERESIS_C below the threshold before it can raise
// another. The hot set is small and lives in memory, so an ordinary heartbeat costs one loop
// over its GPUs and no storage access.

export const HYSTERESIS_C = 5;

/** The hottest GPU a heartbeat reports, or null when it reports no temperatures. */
export function hottestGpu(gpus: unknown[]): { index: number; tempC: number } | null {
  let hottest: { index: number; tempC: number } | null = null;
  for (const g of gpus) {
    if (!g || typeof g !== 'object') continue;
    const { index, tempC } = g as { index?: unknown; tempC?: unknown };
    if (typeof tempC !== 'number' || !Number.isFinite(tempC)) continue;
    if (!hottest || tempC > hottest.tempC) hottest = { index: typeof index === 'number' ? index : 0, tempC };
  }
  return hottest;
}

export type HeatChange = 'became_hot' | 'cooled' | null;

export function heatChange(wasHot: boolean, hottestC: number | null, thresholdC: number): HeatChange {
  if (hottestC === null) return null;
  if (!wasHot && hottestC >= thresholdC) return 'became_hot';
  if (wasHot && hottestC < thresholdC - HYSTERESIS_C) return 'cooled';
  return null;
}

/** Kept by a NodeShard: which of its nodes are hot, persisted in the shard's own SQLite. */
export class GpuHeatTracker {
  private readonly hot: Set<string>;

  /** The shard created `gpu_heat` (workers/live/shard-tables.ts). */
  constructor(private readonly sql: SqlStorage) {
    this.hot = new Set(
      sql
        .exec<{ node_id: string }>('SELECT node_id FROM gpu_heat')
        .toArray()
        .map((r) => r.node_id),
    );
  }

  /**
   * The alert to emit for this heartbeat, if any. The node is marked hot by `markHot` only once
   * the alert is on its way, so a failed emit is tried again at the next heartbeat.
   */
  observe(nodeId: string, gpus: unknown[], nowMs: number, thresholdC: number): AlertEvent | null {
    const hottest = hottestGpu(gpus);
    const change = heatChange(this.hot.has(nodeId), hottest?.tempC ?? null, thresholdC);
    if (change === 'cooled') {
      this.hot.delete(nodeId);
      this.sql.exec('DELETE FROM gpu_heat WHERE node_id = ?', nodeId);
    }
    if (change !== 'became_hot' || !hottest) return null;
    return {
      eventId: `gpu_hot:${nodeId}:${nowMs}`,
      kind: 'gpu_hot',
      nodeId,
      at: nowMs,
      data: { gpuIndex: hottest.index, tempC: hottest.tempC, thresholdC },
    };
  }

  markHot(nodeId: string, nowMs: number): void {
    this.hot.add(nodeId);
    this.sql.exec('INSERT INTO gpu_heat (node_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING', nodeId, nowMs);
  }
}
