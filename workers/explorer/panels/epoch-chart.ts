import { h, type Html } from '../pages/html.ts';
import { formatTokens } from '../pages/format.ts';

// Grouped bars for the last epochs (rewards, burn, emission), with the same numbers in a table
// for screen readers and for anyone who wants the figures. Amounts are decimal token strings.

export interface EpochPoint {
  epoch: number;
  rewards: string;
  burn: string;
  emission: string;
}

const SERIES = [
  ['rewards', 'Rewards'],
  ['burn', 'Burn'],
  ['emission', 'Emission'],
] as const;

export function epochChart(points: EpochPoint[]): Html {
  const max = Math.max(1e-9, ...points.flatMap((p) => SERIES.map(([k]) => Number(p[k]))));
  const groupWidth = 40;
  const bar = 10;
  const height = 100;
  const bars = points.map((p, i) =>
    SERIES.map(([k], j) => {
      const barHeight = Math.round((Number(p[k]) / max) * height * 10) / 10;
      return h`<rect class="bar-${k}" x="${i * groupWidth + 5 + j * bar}" y="${height - barHeight}" width="${bar - 1}" height="${barHeight}"></rect>`;
    }),
  );
  return h`<svg class="chart" viewBox="0 0 ${points.length * groupWidth} ${height}" aria-hidden="true" focusable="false">${bars}</svg>
<ul class="legend">${SERIES.map(([k, label]) => h`<li><span class="swatch bar-${k}"></span>${label}</li>`)}</ul>
<table><caption>Tokens per epoch</caption><thead><tr><th scope="col">Epoch</th>${SERIES.map(([, label]) => h`<th scope="col">${label}</th>`)}</tr></thead>
<tbody>${points.map((p) => h`<tr><th scope="row">${p.epoch}</th>${SERIES.map(([k]) => h`<td>${formatTokens(p[k])}</td>`)}</tr>`)}</tbody></table>`;
}
