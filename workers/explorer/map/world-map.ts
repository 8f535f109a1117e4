import { h, trusted, type Html } from '../pages/html.ts';
import { formatInt } from '../pages/format.ts';
import type { Dot } from '../summary.ts';
import { dotRadius, MAP_HEIGHT, MAP_NORTH, MAP_SOUTH, MAP_WIDTH, project } from './projection.ts';
import { BORDERS_PATH, LAND_PATH } from './world-map.generated.ts';

// The explorer's map: the country outlines shipped in the bundle, and one dot per group of
// online nodes, its area growing with GPU count. Simulated nodes are hollow, dashed rings so
// they differ by shape, not only by colour. The SVG is an image for assistive technology; the
// same data is in the "nodes by country" table next to it.

export function dotMarkup(dot: Dot): Html {
  const [lat, lon, gpus, simulated, nodes] = dot;
  const { x, y } = project(lat, lon);
  const label = `${formatInt(nodes)} ${nodes === 1 ? 'node' : 'nodes'}, ${formatInt(gpus)} GPUs${simulated ? ' (simulated)' : ''}`;
  return h`<circle class="${simulated ? 'dot-sim' : 'dot-real'}" cx="${x}" cy="${y}" r="${dotRadius(gpus)}"><title>${label}</title></circle>`;
}

export function worldMap(dots: Dot[], summaryText: string): Html {
  return h`<figure><svg class="map" viewBox="0 0 ${MAP_WIDTH} ${MAP_HEIGHT}" role="img" aria-labelledby="map-title map-desc">
<title id="map-title">Map of online nodes</title><desc id="map-desc">${summaryText}</desc>
<path class="land" d="${trusted(LAND_PATH)}"></path><path class="borders" d="${trusted(BORDERS_PATH)}"></path>
<g id="dots" data-north="${MAP_NORTH}" data-south="${MAP_SOUTH}">${dots.map(dotMarkup)}</g></svg>
<figcaption><ul class="legend">
<li><svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true"><circle class="dot-real" cx="7" cy="7" r="5"></circle></svg>Online nodes</li>
<li><svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true"><circle class="dot-sim" cx="7" cy="7" r="5"></circle></svg>Online simulated nodes (no real GPUs)</li>
<li>Larger dot: more GPUs. Nodes within one degree share a dot.</li></ul></figcaption></figure>`;
}
