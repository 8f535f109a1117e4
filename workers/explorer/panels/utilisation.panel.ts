import { definePanel } from './panel.ts';

/**
 * Share of the network's GPUs in use. Agents report per-GPU load in heartbeats, but it lives in
 * the shards' live state and is not aggregated across shards, and no GPU is rented before jobs
 * exist: the stat says so instead of showing a number.
 */
export interface UtilisationData {
  ratio: number | null;
}

export const utilisationPanel = definePanel<UtilisationData>({
  id: 'utilisation',
  load: async () => ({ ratio: null }),
  stats: (d) => [
    {
      key: 'utilisation',
      label: 'Network utilisation',
      value: d.ratio === null ? null : `${(Math.round(d.ratio * 1000) / 10).toFixed(1)}%`,
      note: d.ratio === null ? 'measured once jobs run' : 'of online GPUs rented',
    },
  ],
});
