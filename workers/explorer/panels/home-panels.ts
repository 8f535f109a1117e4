import { endpointsPanel } from './endpoints.panel.ts';
import { epochsPanel } from './epochs.panel.ts';
import { jobsPanel } from './jobs.panel.ts';
import type { RunnablePanel } from './panel.ts';
import { proposalsPanel } from './proposals.panel.ts';
import { utilisationPanel } from './utilisation.panel.ts';

/** The explorer's panels beyond the registry's own totals and map, in page order. */
export const homePanels: readonly RunnablePanel[] = [utilisationPanel, jobsPanel, endpointsPanel, epochsPanel, proposalsPanel];
