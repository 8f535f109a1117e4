import { definePanel } from './panel.ts';
import { rows } from './panel-sql.ts';

/**
 * Share of the network's online GPUs committed to live jobs: gpu_commitments holds only live
 * jobs' GPUs, so both sides are one pass over online nodes. No GPU online: nothing to measure.
 */
export interface UtilisationData {
  ratio: number | null;
}

const UTILISATION_SQL = `
  SELECT (SELECT coalesce(sum(g.count), 0) FROM node_gpus g JOIN nodes n ON n.id = g.node_id WHERE n.status = 'online') AS online,
         (SELECT coalesce(sum(c.count), 0) FROM gpu_commitments c JOIN nodes n ON n.id = c.node_id WHERE n.status = 'online') AS committed`;

export const utilisationPanel = definePanel<UtilisationData>({
  id: 'utilisation',
  load: async (ctx) => {
    const row = (await rows<{ online: number; committed: number }>(ctx.db, UTILISATION_SQL))[0];
    return { ratio: row && row.online > 0 ? Math.min(1, row.committed / row.online) : null };
  },
  stats: (d) => [
    {
      key: 'utilisation',
      label: 'Network utilisation',
      value: d.ratio === null ? null : `${(Math.round(d.ratio * 1000) / 10).toFixed(1)}%`,
      note: d.ratio === null ? 'no GPU online' : 'of online GPUs rented',
    },
  ],
});
