// Distances on the Earth and the coarse location cells used as a D1 index column, so a quote can
// read the nodes near the renter first instead of scanning the registry.

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

export const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

/** Great-circle distance in km. */
export function haversineKm(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const dLat = (bLat - aLat) * RAD;
  const dLon = (bLon - aLon) * RAD;
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLon / 2);
  const h = s1 * s1 + Math.cos(aLat * RAD) * Math.cos(bLat * RAD) * s2 * s2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function distanceKm(a: LatLon, b: LatLon): number {
  return haversineKm(a.lat, a.lon, b.lat, b.lon);
}

/** Cell size in degrees: 5° is about 550 km north-south, 2,592 cells over the globe. */
export const CELL_DEG = 5;
const ROWS = 180 / CELL_DEG;
const COLS = 360 / CELL_DEG;

function rowOf(lat: number): number {
  return Math.min(ROWS - 1, Math.max(0, Math.floor((lat + 90) / CELL_DEG)));
}

function colOf(lon: number): number {
  const wrapped = (((lon + 180) % 360) + 360) % 360;
  return Math.min(COLS - 1, Math.floor(wrapped / CELL_DEG));
}

// Every cell's id made once: a ring search would otherwise build a string per cell it visits.
const CELL_IDS: readonly string[] = Array.from({ length: ROWS * COLS }, (_, i) => `${Math.floor(i / COLS)}:${i % COLS}`);

function cellId(row: number, col: number): string {
  return CELL_IDS[row * COLS + col] ?? `${row}:${col}`;
}

/** The cell holding a point, as stored in `nodes.geo_cell`: "row:col" on the 5° grid. */
export function geoCell(lat: number, lon: number): string {
  return cellId(rowOf(lat), colOf(lon));
}

/**
 * A lower bound on the distance from a point to a cell (0 inside it), tight enough to order
 * cells: the latitude gap, or the distance to the great circle of the cell's nearest meridian
 * edge, whichever is larger. A lower bound means a radius search never drops a cell it needs.
 */
function distanceToCellKm(lat: number, lon: number, row: number, col: number): number {
  const south = row * CELL_DEG - 90;
  const west = col * CELL_DEG - 180;
  const latGapKm = Math.max(0, south - lat, lat - (south + CELL_DEG)) * RAD * EARTH_RADIUS_KM;
  // Longitude gap to the cell's nearer edge, taking the shorter way round the antimeridian.
  const toCentre = ((((lon - (west + CELL_DEG / 2)) % 360) + 540) % 360) - 180;
  const lonGap = Math.max(0, Math.abs(toCentre) - CELL_DEG / 2);
  if (lonGap === 0) return latGapKm;
  // Distance to the edge meridian's whole great circle: a lower bound for any lonGap <= 180.
  const sinCross = Math.abs(Math.cos(lat * RAD)) * Math.sin(lonGap * RAD);
  const crossKm = EARTH_RADIUS_KM * Math.asin(Math.min(1, sinCross));
  return Math.max(latGapKm, crossKm);
}

/**
 * Every cell with a point within `radiusKm` of (lat, lon), nearest first (ties by id), so the
 * I/O layer can query `geo_cell IN (...)` for the closest cells before the rest.
 */
export function cellsNear(lat: number, lon: number, radiusKm: number): string[] {
  return cellsBetween(lat, lon, Number.NEGATIVE_INFINITY, radiusKm);
}

/**
 * The cells whose lower-bound distance from (lat, lon) is over `innerKm` and at most `outerKm`,
 * nearest first (ties by id): one ring of an expanding search, computed on its own. Only the
 * rows of cells the outer radius can reach are visited, so the renter's own ring costs a few
 * hundred cell distances, not the globe's 2,592 (most quotes never widen).
 */
export function cellsBetween(lat: number, lon: number, innerKm: number, outerKm: number): string[] {
  const radius = Math.max(0, outerKm);
  const dLat = radius / (EARTH_RADIUS_KM * RAD);
  const rowLo = rowOf(Math.max(-90, lat - dLat));
  const rowHi = rowOf(Math.min(90, lat + dLat));
  const found: { id: string; km: number }[] = [];
  for (let row = rowLo; row <= rowHi; row++) {
    for (let col = 0; col < COLS; col++) {
      const km = distanceToCellKm(lat, lon, row, col);
      if (km <= radius && km > innerKm) found.push({ id: cellId(row, col), km });
    }
  }
  return nearestFirst(found);
}

/** By distance, ties by id (the order every ring has always had). */
function nearestFirst(found: { id: string; km: number }[]): string[] {
  found.sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return found.map((f) => f.id);
}

const parsedCells = new WeakMap<ReadonlySet<string>, { id: string; row: number; col: number }[]>();

/**
 * cellsBetween(...) restricted to `cells`, in the same order, visiting only those cells: a
 * quote's outer rings ask only about cells that hold nodes, a few hundred of the globe's 2,592.
 * The parsed set is kept per set object (the quote's used-cells set lives for seconds).
 */
export function cellsBetweenAmong(lat: number, lon: number, innerKm: number, outerKm: number, cells: ReadonlySet<string>): string[] {
  let parsed = parsedCells.get(cells);
  if (!parsed) {
    parsed = [];
    for (const id of cells) {
      const [row, col] = id.split(':').map(Number);
      if (Number.isInteger(row) && Number.isInteger(col) && cellId(row!, col!) === id) parsed.push({ id, row: row!, col: col! });
    }
    parsedCells.set(cells, parsed);
  }
  const radius = Math.max(0, outerKm);
  const found: { id: string; km: number }[] = [];
  for (const c of parsed) {
    const km = distanceToCellKm(lat, lon, c.row, c.col);
    if (km <= radius && km > innerKm) found.push({ id: c.id, km });
  }
  return nearestFirst(found);
}

/**
 * Rings of cells for expanding searches: ring i holds the cells within `radiiKm[i]` that no
 * earlier ring holds (radii ascending). With radii [600, 2000, 6000] a quote reads the renter's
 * surroundings first and widens only when too few eligible nodes are found.
 */
export function cellRings(lat: number, lon: number, radiiKm: readonly number[]): string[][] {
  return radiiKm.map((radius, i) => cellsBetween(lat, lon, i === 0 ? Number.NEGATIVE_INFINITY : (radiiKm[i - 1] ?? 0), radius));
}
