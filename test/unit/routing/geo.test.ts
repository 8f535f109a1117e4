import { describe, expect, it } from 'vitest';
import { cellRings, cellsNear, geoCell, haversineKm } from '../../../workers/routing/geo.ts';

describe('haversineKm', () => {
  it('measures known distances', () => {
    expect(haversineKm(51.5074, -0.1278, 48.8566, 2.3522)).toBeCloseTo(344, -1); // London-Paris
    expect(haversineKm(40.7128, -74.006, 51.5074, -0.1278)).toBeCloseTo(5570, -1.5); // NYC-London
    expect(haversineKm(10, 20, 10, 20)).toBe(0);
    expect(haversineKm(0, 179.9, 0, -179.9)).toBeCloseTo(22.2, 0); // across the antimeridian
  });
});

describe('geo cells', () => {
  it('gives a stable row:col id on a 5 degree grid', () => {
    expect(geoCell(48.85, 2.35)).toBe('27:36');
    expect(geoCell(-90, -180)).toBe('0:0');
    expect(geoCell(90, 180)).toBe('35:0'); // the pole row is clamped, 180 wraps to -180
    expect(geoCell(0, 359)).toBe(geoCell(0, -1));
  });

  it('lists the own cell first and covers every point within the radius', () => {
    const [lat, lon, radius] = [48.85, 2.35, 800];
    const cells = cellsNear(lat, lon, radius);
    expect(cells[0]).toBe(geoCell(lat, lon));
    for (let b = 0; b < 360; b += 15) {
      for (const km of [100, 400, 790]) {
        const dLat = (km / 111.2) * Math.cos((b * Math.PI) / 180);
        const dLon = ((km / 111.2) * Math.sin((b * Math.PI) / 180)) / Math.cos((lat * Math.PI) / 180);
        if (haversineKm(lat, lon, lat + dLat, lon + dLon) <= radius) {
          expect(cells).toContain(geoCell(lat + dLat, lon + dLon));
        }
      }
    }
    expect(cells.length).toBeLessThan(40);
  });

  it('wraps across the antimeridian', () => {
    const cells = cellsNear(-17.7, 179.5, 300); // Fiji
    expect(cells).toContain(geoCell(-17.7, -179.5));
  });

  it('splits cells into disjoint rings, nearest first', () => {
    const rings = cellRings(35.68, 139.69, [300, 1500, 5000]);
    const all = rings.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(rings[0]).toContain(geoCell(35.68, 139.69));
    expect(all).toEqual(
      cellsNear(35.68, 139.69, 5000)
        .filter((c) => all.includes(c))
        .sort((a, b) => all.indexOf(a) - all.indexOf(b)),
    );
    expect(cellsNear(0, 0, 25_000)).toHaveLength(36 * 72);
  });
});
