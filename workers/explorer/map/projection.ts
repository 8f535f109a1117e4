// The explorer's equirectangular projection: one unit per degree, Antarctica cropped. Shared by
// the map generator, the server-rendered dots and (as numbers) the page's refresh script.

export const MAP_NORTH = 84;
export const MAP_SOUTH = -58;
export const MAP_WIDTH = 360;
export const MAP_HEIGHT = MAP_NORTH - MAP_SOUTH;

export function project(lat: number, lon: number): { x: number; y: number } {
  const clamped = Math.min(MAP_NORTH, Math.max(MAP_SOUTH, lat));
  return { x: round1(lon + 180), y: round1(MAP_NORTH - clamped) };
}

/** Dot radius in map units: area grows with GPU count, bounded so a big rig does not hide a city. */
export function dotRadius(gpus: number): number {
  return round1(Math.min(9, 2 + 1.2 * Math.sqrt(Math.max(1, gpus))));
}

const round1 = (n: number) => Math.round(n * 10) / 10;
