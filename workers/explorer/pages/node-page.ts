import { gpuMetricsSchema } from '../../nodes/node-input.schema.ts';
import type { NodeView } from '../../nodes/node-view.ts';
import type { NodeEventRow } from '../explorer.repo.ts';
import type { LoadedPanel } from '../panels/panel.ts';
import { countryName, formatDuration, formatInt, formatPercent, formatTime, formatTokens } from './format.ts';
import { h, type Html } from './html.ts';
import type { Document } from './layout.ts';
import { notYet, scrollTable, section, simulatedTag, statusTag } from './parts.ts';

// `/nodes/{id}`: one node as its operator and renters would want to see it. Everything the
// operator chose (name, reported GPU models) is escaped by `h`; renters' data never appears.

export interface NodePageData {
  node: NodeView;
  events: NodeEventRow[];
  panels: LoadedPanel[];
  nowMs: number;
}

export function nodePage({ node, events, panels, nowMs }: NodePageData): Document {
  const body = h`<nav aria-label="Breadcrumb"><a href="/">Explorer</a> › <span aria-current="page">Node</span></nav>
<h1>${node.name}${simulatedTag(node.simulated)}</h1>
<p>${statusTag(node.status)} <span class="muted">last seen ${formatTime(node.lastSeenAt)}</span></p>
${node.simulated ? h`<p class="muted">This node runs the edge agent in simulation: its GPUs and metrics are made up for testing and it is never given real work.</p>` : null}
<div class="grid2">
${section('overview', 'Overview', facts(node, nowMs))}
${section('gpus', 'GPUs', gpuTable(node))}
</div>
${section('metrics', 'Live metrics', metrics(node))}
${section('history', 'Status history', history(events))}
${panels.map((p) => p.section)}`;
  return {
    title: `${node.name} · gridplane node`,
    description: `GPU node ${node.name} on the gridplane network.`,
    body,
  };
}

function facts(node: NodeView, nowMs: number): Html {
  return h`<dl class="facts">
<dt>Node id</dt><dd><code>${node.id}</code></dd>
<dt>Owner</dt><dd><code>${node.owner}</code></dd>
<dt>Location</dt><dd>${countryName(node.location.country)} (${node.location.lat.toFixed(2)}, ${node.location.lon.toFixed(2)})</dd>
<dt>Price</dt><dd>${formatTokens(node.pricePerGpuHour)} tokens per GPU-hour</dd>
<dt>Uptime</dt><dd>${formatPercent(node.uptime.ratio)} <span class="muted">(${formatDuration(node.uptime.onlineSeconds * 1000)} online since ${formatTime(node.uptime.since)})</span></dd>
<dt>Reputation</dt><dd>${node.reputation.toFixed(2)} <span class="muted">of 1.00</span></dd>
<dt>Registered</dt><dd>${formatTime(node.registeredAt)} <span class="muted">(${formatDuration(nowMs - Date.parse(node.registeredAt))} ago)</span></dd>
<dt>Agent</dt><dd>${node.agentVersion}</dd>
${node.suspended ? h`<dt>Suspended</dt><dd>yes: this node is not given work</dd>` : null}
</dl>`;
}

function gpuTable(node: NodeView): Html {
  return scrollTable(
    'GPUs',
    h`<table><caption>GPUs the agent reported</caption>
<thead><tr><th scope="col">Model</th><th scope="col">Catalogue</th><th scope="col" class="n">Memory</th><th scope="col" class="n">Count</th></tr></thead>
<tbody>${node.gpus.map(
      (g) =>
        h`<tr><th scope="row">${g.model}${simulatedTag(g.simulated === true)}</th><td>${g.canonicalModel}</td><td class="n">${formatInt(Math.round(g.vramMb / 1024))} GiB</td><td class="n">${g.count}</td></tr>`,
    )}</tbody></table>`,
  );
}

function metrics(node: NodeView): Html {
  // Heartbeats were validated on the way in; parse again so the page never trusts stored JSON.
  const gpus = (node.metrics?.gpus ?? []).flatMap((g) => {
    const parsed = gpuMetricsSchema.safeParse(g);
    return parsed.success ? [parsed.data] : [];
  });
  const probes = node.metrics?.probes ?? [];
  if (gpus.length === 0 && probes.length === 0) return notYet('No heartbeat metrics received yet.');
  const gpuPart =
    gpus.length === 0
      ? notYet('The last heartbeat carried no GPU metrics.')
      : scrollTable(
          'GPU metrics',
          h`<table><caption>Per GPU, from the latest heartbeat</caption>
<thead><tr><th scope="col">GPU</th><th scope="col" class="n">Utilisation</th><th scope="col" class="n">Memory used</th><th scope="col" class="n">Temperature</th><th scope="col" class="n">Power</th></tr></thead>
<tbody>${gpus.map(
            (g) =>
              h`<tr><th scope="row">#${g.index}</th><td class="n">${Math.round(g.utilPct)}%</td><td class="n">${formatInt(g.memUsedMb)} MiB</td><td class="n">${Math.round(g.tempC)} °C</td><td class="n">${g.powerW == null ? '—' : `${Math.round(g.powerW)} W`}</td></tr>`,
          )}</tbody></table>`,
        );
  const probePart =
    probes.length === 0
      ? null
      : scrollTable(
          'Probe round-trip times',
          h`<table><caption>Round-trip times to probe points</caption>
<thead><tr><th scope="col">Probe</th><th scope="col" class="n">Round trip</th></tr></thead>
<tbody>${probes.map((p) => h`<tr><th scope="row">${p.target}</th><td class="n">${p.rttMs.toFixed(1)} ms</td></tr>`)}</tbody></table>`,
        );
  return h`${gpuPart}${probePart}`;
}

const EVENT_TEXT: Record<NodeEventRow['kind'], string> = {
  registered: 'Registered',
  online: 'Came online',
  offline: 'Went offline',
};

function history(events: NodeEventRow[]): Html {
  if (events.length === 0) return notYet('No status changes recorded yet.');
  return scrollTable(
    'Status history',
    h`<table><caption>The last ${events.length} status changes, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Event</th></tr></thead>
<tbody>${events.map((e) => h`<tr><td>${formatTime(e.at)}</td><td>${EVENT_TEXT[e.kind] ?? e.kind}</td></tr>`)}</tbody></table>`,
  );
}
