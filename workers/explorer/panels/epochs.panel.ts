import { notYet, section } from '../pages/parts.ts';
import { definePanel } from './panel.ts';
import { epochChart, type EpochPoint } from './epoch-chart.ts';

/** The last epochs' rewards, burn and emission. Epochs are not enabled yet: no rows. */
export interface EpochsData {
  epochs: EpochPoint[];
}

export const epochsPanel = definePanel<EpochsData>({
  id: 'epochs',
  load: async () => ({ epochs: [] }),
  section: (d) =>
    section(
      'epochs',
      'Rewards, burn and emission',
      d.epochs.length === 0 ? notYet('Rewards start when epochs are enabled.') : epochChart(d.epochs),
    ),
});
