import { formatAmount } from '../../lib/amounts.ts';
import { notYet, section } from '../pages/parts.ts';
import { definePanel } from './panel.ts';
import { epochChart, type EpochPoint } from './epoch-chart.ts';
import { rows } from './panel-sql.ts';

/** The last closed epochs' rewards (credited to accounts), burn and emission (minted), oldest first. */
export interface EpochsData {
  epochs: EpochPoint[];
}

export const EPOCHS_SHOWN = 12;

// The newest closed epochs by primary key; each one's credits summed through the (epoch, account) key.
const EPOCHS_SQL = `
  SELECT e.epoch, e.burned, e.minted,
         (SELECT coalesce(sum(c.amount), 0) FROM epoch_credits c WHERE c.epoch = e.epoch) AS credited
  FROM epochs e WHERE e.status = 'closed' ORDER BY e.epoch DESC LIMIT ?1`;

export const epochsPanel = definePanel<EpochsData>({
  id: 'epochs',
  load: async (ctx) => {
    const found = await rows<{ epoch: number; burned: number; minted: number; credited: number }>(ctx.db, EPOCHS_SQL, EPOCHS_SHOWN);
    const d = ctx.config.TOKEN_DECIMALS;
    return {
      epochs: found.reverse().map((r) => ({
        epoch: r.epoch,
        rewards: formatAmount(r.credited, d),
        burn: formatAmount(r.burned, d),
        emission: formatAmount(r.minted, d),
      })),
    };
  },
  section: (d) =>
    section(
      'epochs',
      'Rewards, burn and emission',
      d.epochs.length === 0 ? notYet('No epoch has closed yet: rewards appear here after the first epoch close.') : epochChart(d.epochs),
    ),
});
