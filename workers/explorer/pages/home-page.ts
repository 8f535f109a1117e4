import { worldMap } from '../map/world-map.ts';
import type { RecentNodeRow } from '../explorer.repo.ts';
import type { LoadedPanel, Stat } from '../panels/panel.ts';
import type { NetworkSummary } from '../summary.ts';
import { countryName, formatInt, formatTokens, modelLabel } from './format.ts';
import { h, type Html } from './html.ts';
import type { Document } from './layout.ts';
import { scrollTable, section, simulatedTag, statusTag } from './parts.ts';
import { REFRESH_SCRIPT } from './refresh-script.ts';

// `/`: the network at a glance. Totals, map and tables come from the summary (the same data as
// GET /v1/network/summary, so the refresh script can update them); the rest are panels.

export interface HomeData {
  summary: NetworkSummary;
  recent: RecentNodeRow[];
  panels: LoadedPanel[];
}

export function homePage({ summary, recent, panels }: HomeData): Document {
  const registryStats: Stat[] = [
    {
      key: 'nodesOnline',
      label: 'Nodes online',
      value: formatInt(summary.nodes.online),
      note: `${formatInt(summary.nodes.offline)} offline · ${formatInt(summary.nodes.simulatedOnline)} simulated`,
    },
    {
      key: 'gpusOnline',
      label: 'GPUs online',
      value: formatInt(summary.gpus.online),
      note: `${summary.models.length} models · ${formatInt(summary.gpus.simulatedOnline)} simulated`,
    },
  ];
  const stats = [...registryStats, ...panels.flatMap((p) => p.stats)];
  const mapText =
    summary.dots.length === 0
      ? 'No node is online.'
      : `${formatInt(summary.nodes.online)} online nodes in ${summary.countries.length} countries, listed in the table "Online nodes by country".`;
  const updated = `${summary.generatedAt.slice(0, 10)} ${summary.generatedAt.slice(11, 19)} UTC`;
  const body = h`<h1>Network explorer</h1>
<p class="lede">GPUs shared by their owners, live from this control plane. Updated <time id="updated" datetime="${summary.generatedAt}">${updated}</time>; refreshes every 10 seconds.</p>
<section aria-labelledby="totals-h"><h2 id="totals-h" class="vh">Totals</h2><ul class="stats">${stats.map(statItem)}</ul></section>
${section('map', 'Where the GPUs are', h`<div class="grid2"><div>${worldMap(summary.dots, mapText)}</div><div>${countriesTable(summary)}</div></div>`)}
${section('models', 'GPUs by model', modelsTable(summary))}
${section('recent', 'Recently joined nodes', recentTable(recent))}
${panels.map((p) => p.section)}`;
  return {
    title: 'gridplane explorer',
    description: 'Nodes, GPUs, prices and governance of the gridplane community GPU network.',
    body,
    script: REFRESH_SCRIPT,
  };
}

function statItem(stat: Stat): Html {
  return h`<li><span class="label">${stat.label}</span><span class="value" data-stat="${stat.key}">${stat.value ?? '—'}</span><span class="note" data-stat="${stat.key.replace(/Online$/, '')}Note">${stat.note}</span></li>`;
}

function countriesTable(summary: NetworkSummary): Html {
  return scrollTable(
    'Online nodes by country',
    h`<table><caption>Online nodes by country</caption>
<thead><tr><th scope="col">Country</th><th scope="col" class="n">Nodes</th><th scope="col" class="n">GPUs</th></tr></thead>
<tbody id="countries-body" data-cols="3" data-empty="No node is online.">${
      summary.countries.length === 0
        ? h`<tr><td colspan="3">No node is online.</td></tr>`
        : summary.countries.map(
            (c) =>
              h`<tr><th scope="row">${countryName(c.country)}</th><td class="n">${formatInt(c.nodes)}</td><td class="n">${formatInt(c.gpus)}</td></tr>`,
          )
    }</tbody></table>`,
  );
}

function modelsTable(summary: NetworkSummary): Html {
  return scrollTable(
    'GPUs by model',
    h`<table><caption>Online GPUs by model, with the median asking price per GPU-hour in tokens</caption>
<thead><tr><th scope="col">Model</th><th scope="col" class="n">GPUs</th><th scope="col" class="n">Nodes</th><th scope="col" class="n">Median price / GPU-hour</th></tr></thead>
<tbody id="models-body" data-cols="4" data-empty="No GPU is online.">${
      summary.models.length === 0
        ? h`<tr><td colspan="4">No GPU is online.</td></tr>`
        : summary.models.map(
            (m) =>
              h`<tr><th scope="row">${modelLabel(m.model, m.simulatedGpus)}</th><td class="n">${formatInt(m.gpus)}</td><td class="n">${formatInt(m.nodes)}</td><td class="n">${formatTokens(m.medianPricePerGpuHour)}</td></tr>`,
          )
    }</tbody></table>`,
  );
}

function recentTable(recent: RecentNodeRow[]): Html {
  if (recent.length === 0) return h`<p class="empty">No node has registered yet. Run the edge agent to add one.</p>`;
  return scrollTable(
    'Recently joined nodes',
    h`<table><caption>The newest nodes, online or not</caption>
<thead><tr><th scope="col">Node</th><th scope="col">Status</th><th scope="col" class="n">GPUs</th><th scope="col">Country</th></tr></thead>
<tbody>${recent.map(
      (n) =>
        h`<tr><th scope="row"><a href="/nodes/${n.id}">${n.name}</a>${simulatedTag(n.simulated === 1)}</th><td>${statusTag(n.status)}</td><td class="n">${formatInt(n.gpus)}</td><td>${countryName(n.country)}</td></tr>`,
    )}</tbody></table>`,
  );
}
