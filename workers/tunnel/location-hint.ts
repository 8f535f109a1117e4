// Cloudflare's Durable Object location hints (the regions an object can be asked to start in),
// from a latitude and longitude. Coarse boxes are enough: the hint only picks the region of the
// object's first placement, and a node is far closer to any data centre of its own region than to
// the next region's.

export interface LatLon {
  lat: number;
  lon: number;
}

export type LocationHint = 'wnam' | 'enam' | 'sam' | 'weur' | 'eeur' | 'apac' | 'oc' | 'afr' | 'me';

/** Checked in order; the first box that holds the point wins. [latMin, latMax, lonMin, lonMax]. */
const BOXES: [LocationHint, number, number, number, number][] = [
  ['oc', -50, -10, 110, 180], // Australia, New Zealand
  ['sam', -60, 13, -95, -30], // South America (and Central America's south)
  ['wnam', 13, 75, -170, -100], // North America west of the Rockies' line
  ['enam', 13, 75, -100, -50], // North America east of it, the Caribbean
  ['me', 12, 42, 35, 63], // Middle East
  ['afr', -36, 37, -20, 52], // Africa
  ['weur', 35, 72, -25, 15], // Western Europe
  ['eeur', 35, 72, 15, 60], // Eastern Europe
  ['apac', -11, 75, 60, 180], // Asia
];

export function locationHintNear({ lat, lon }: LatLon): LocationHint {
  for (const [hint, latMin, latMax, lonMin, lonMax] of BOXES) {
    if (lat >= latMin && lat <= latMax && lon >= lonMin && lon <= lonMax) return hint;
  }
  // Open ocean and the poles: the hemisphere's big regions.
  if (lon < -30) return lat < 0 ? 'sam' : 'enam';
  return lat < 0 ? 'oc' : 'weur';
}
