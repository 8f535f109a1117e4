import { h } from '../pages/html.ts';
import { notYet, section } from '../pages/parts.ts';
import { formatTokens } from '../pages/format.ts';
import { definePanel } from './panel.ts';

/** Open proposals and their tallies (stake-weighted, decimal token strings). None exist yet. */
export interface ProposalsData {
  open: { id: string; title: string; closesAt: string; yes: string; no: string; abstain: string }[];
}

export const proposalsPanel = definePanel<ProposalsData>({
  id: 'proposals',
  load: async () => ({ open: [] }),
  section: (d) =>
    section(
      'proposals',
      'Open proposals',
      d.open.length === 0
        ? notYet('No open proposals: voting starts when staking is enabled.')
        : h`<ul class="proposals">${d.open.map(
            (p) => h`<li><strong>${p.title}</strong> <span class="muted">closes ${p.closesAt}</span><br>yes ${formatTokens(p.yes)} · no ${formatTokens(p.no)} · abstain ${formatTokens(p.abstain)}</li>`,
          )}</ul>`,
    ),
});
