import { networkEndpoints, type NetworkEndpoints } from '../../endpoints/endpoint-summaries.ts';
import { h } from '../pages/html.ts';
import { notYet, scrollTable, section } from '../pages/parts.ts';
import { formatInt } from '../pages/format.ts';
import { definePanel } from './panel.ts';

// Inference endpoints on the network (issue 12): how many are up, their ready replicas, and the
// busiest ones with their traffic over the last minutes (requests per minute, median time to
// first byte at the gateway). No owner and no name: those are the renter's; the id is public
// anyway (it is in the endpoint's URL).

export const ENDPOINTS_SHOWN = 10;

export const endpointsPanel = definePanel<NetworkEndpoints>({
  id: 'endpoints',
  load: (ctx) => networkEndpoints(ctx.db, ctx.nowMs, ENDPOINTS_SHOWN),
  stats: (d) => [
    {
      key: 'endpointsActive',
      label: 'Endpoints',
      value: formatInt(d.active),
      note: `${formatInt(d.replicasReady)} ready ${d.replicasReady === 1 ? 'replica' : 'replicas'}`,
    },
    { key: 'endpointRequests', label: 'Endpoint requests', value: formatInt(d.requests), note: `last ${d.windowMinutes} min` },
  ],
  section: (d) =>
    section(
      'endpoints',
      'Endpoints',
      d.top.length === 0
        ? notYet('No endpoint is active right now.')
        : scrollTable(
            'Endpoints and their traffic',
            h`<table class="endpoints"><thead><tr><th scope="col">Endpoint</th><th scope="col">Replicas ready</th><th scope="col">Where</th><th scope="col">Requests/min</th><th scope="col">Median first byte</th><th scope="col">Errors</th></tr></thead><tbody>${d.top.map(
              (e) =>
                h`<tr><td><code>${e.id}</code></td><td>${e.ready}/${e.replicas}</td><td>${e.countries.join(', ') || '—'}</td><td>${e.requestsPerMinute}</td><td>${e.medianTtfbMs === null ? '—' : `${e.medianTtfbMs} ms`}</td><td>${formatInt(e.errors)}</td></tr>`,
            )}</tbody></table>`,
          ),
    ),
});
