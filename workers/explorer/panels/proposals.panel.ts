import { formatAmount } from '../../lib/amounts.ts';
import { quorumReached } from '../../governance/tally.ts';
import { h } from '../pages/html.ts';
import { notYet, section } from '../pages/parts.ts';
import { formatTime, formatTokens } from '../pages/format.ts';
import { definePanel } from './panel.ts';
import { rows } from './panel-sql.ts';

/** Open proposals and their live tallies (stake-weighted, decimal token strings). */
export interface ProposalsData {
  open: { number: number; title: string; closesAt: string; yes: string; no: string; abstain: string; quorum: boolean }[];
}

export const PROPOSALS_SHOWN = 20;

// Open proposals from the (status, voting_ends_at) index, soonest closing first; their votes
// through the votes primary key (proposal_id, account_id), one GROUP BY.
const OPEN_SQL = `
  WITH open AS (
    SELECT id, number, title, voting_ends_at, total_power, quorum_bps, threshold_bps FROM proposals
    WHERE status = 'open' ORDER BY voting_ends_at LIMIT ?1
  )
  SELECT o.number, o.title, o.voting_ends_at, o.total_power, o.quorum_bps, o.threshold_bps,
         coalesce(sum(CASE WHEN v.choice = 'yes' THEN v.power END), 0) AS yes,
         coalesce(sum(CASE WHEN v.choice = 'no' THEN v.power END), 0) AS no,
         coalesce(sum(CASE WHEN v.choice = 'abstain' THEN v.power END), 0) AS abstain
  FROM open o LEFT JOIN votes v ON v.proposal_id = o.id
  GROUP BY o.id ORDER BY o.voting_ends_at, o.number`;

interface Row {
  number: number;
  title: string;
  voting_ends_at: number;
  total_power: number;
  quorum_bps: number;
  threshold_bps: number;
  yes: number;
  no: number;
  abstain: number;
}

export const proposalsPanel = definePanel<ProposalsData>({
  id: 'proposals',
  load: async (ctx) => {
    const d = ctx.config.TOKEN_DECIMALS;
    const found = await rows<Row>(ctx.db, OPEN_SQL, PROPOSALS_SHOWN);
    return {
      open: found.map((r) => ({
        number: r.number,
        title: r.title,
        closesAt: formatTime(r.voting_ends_at),
        yes: formatAmount(r.yes, d),
        no: formatAmount(r.no, d),
        abstain: formatAmount(r.abstain, d),
        quorum: quorumReached(r, { totalPower: r.total_power, quorumBps: r.quorum_bps, thresholdBps: r.threshold_bps }),
      })),
    };
  },
  section: (d) =>
    section(
      'proposals',
      'Open proposals',
      d.open.length === 0
        ? notYet('No open proposals.')
        : h`<ul class="proposals">${d.open.map(
            (p) =>
              h`<li><strong>#${p.number} ${p.title}</strong> <span class="muted">closes ${p.closesAt}</span><br>yes ${formatTokens(p.yes)} · no ${formatTokens(p.no)} · abstain ${formatTokens(p.abstain)} · ${p.quorum ? 'quorum reached' : 'quorum not reached'}</li>`,
          )}</ul>`,
    ),
});
