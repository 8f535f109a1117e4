import { describe, expect, it } from 'vitest';
import { haversineKm, type LatLon } from '../../../workers/routing/geo.ts';
import {
  buildProbeIndex,
  clientView,
  DEFAULT_RTT_PARAMS,
  estimateFromProfile,
  estimateRttMs,
  profileNode,
  regionFromProfiles,
  type ProbeSample,
} from '../../../workers/routing/rtt-model.ts';

const PROBES = new Map<string, LatLon>([
  ['FRA', { lat: 50.11, lon: 8.68 }],
  ['AMS', { lat: 52.37, lon: 4.9 }],
  ['LON', { lat: 51.51, lon: -0.13 }],
  ['MRS', { lat: 43.3, lon: 5.37 }],
  ['WAW', { lat: 52.23, lon: 21.01 }],
  ['IAD', { lat: 39.04, lon: -77.49 }],
]);

/** Probe readings of a node with a given access delay on a network with 0.015 ms/km routes. */
function measured(at: LatLon, accessMs: number, msPerKm = 0.015): ProbeSample[] {
  return [...PROBES].map(([target, p]) => ({
    target,
    rttMs: accessMs + 2 + msPerKm * haversineKm(at.lat, at.lon, p.lat, p.lon),
  }));
}

const PARIS = { lat: 48.86, lon: 2.35 };
const BRUSSELS = { lat: 50.85, lon: 4.35 };

describe('estimateRttMs', () => {
  it('puts a node with a slow last mile behind a slightly farther node with a fast one', () => {
    const renter = { lat: 49.6, lon: 3.3 }; // nearer Paris than Brussels
    const slow = { ...PARIS, probes: measured(PARIS, 35) };
    const fast = { ...BRUSSELS, probes: measured(BRUSSELS, 1) };
    expect(haversineKm(renter.lat, renter.lon, PARIS.lat, PARIS.lon)).toBeLessThan(
      haversineKm(renter.lat, renter.lon, BRUSSELS.lat, BRUSSELS.lon),
    );
    expect(estimateRttMs(renter, fast, PROBES)).toBeLessThan(estimateRttMs(renter, slow, PROBES) - 20);
  });

  it('follows a detour measured to the probe point at the renter, there more than elsewhere', () => {
    // A node whose route to London detours 40 ms more than its other routes suggest.
    const clean = { ...PARIS, probes: measured(PARIS, 2) };
    const detoured = { ...clean, probes: clean.probes.map((s) => (s.target === 'LON' ? { ...s, rttMs: s.rttMs + 40 } : s)) };
    const london = { lat: 51.51, lon: -0.13 };
    const berlin = { lat: 52.52, lon: 13.4 };
    const atLondon = estimateRttMs(london, detoured, PROBES) - estimateRttMs(london, clean, PROBES);
    const atBerlin = estimateRttMs(berlin, detoured, PROBES) - estimateRttMs(berlin, clean, PROBES);
    expect(atLondon).toBeGreaterThan(10);
    expect(atBerlin).toBeLessThan(atLondon);
  });

  it('is near distance-proportional for a clean node and grows with distance', () => {
    const node = { ...PARIS, probes: measured(PARIS, 1) };
    const near = estimateRttMs({ lat: 48.9, lon: 2.4 }, node, PROBES);
    const far = estimateRttMs({ lat: 40.71, lon: -74.0 }, node, PROBES);
    expect(near).toBeGreaterThan(0);
    expect(near).toBeLessThan(12);
    expect(far).toBeGreaterThan(60);
    expect(far).toBeLessThan(140);
  });

  it('ignores broken readings: faster than light, negative, NaN, absurdly high, unknown probes', () => {
    const clean = { ...PARIS, probes: measured(PARIS, 3) };
    const broken = {
      ...PARIS,
      probes: [
        ...measured(PARIS, 3).map((s) => (s.target === 'IAD' ? { ...s, rttMs: 0.5 } : s)),
        { target: 'FRA', rttMs: Number.NaN },
        { target: 'NOPE', rttMs: 1 },
        { target: 'AMS', rttMs: -4 },
        { target: 'WAW', rttMs: 99_999 },
      ],
    };
    for (const renter of [
      { lat: 52.5, lon: 13.4 },
      { lat: 40.4, lon: -3.7 },
    ]) {
      expect(estimateRttMs(renter, broken, PROBES)).toBeCloseTo(estimateRttMs(renter, clean, PROBES), 0);
    }
  });

  it('still estimates a node that has no usable probe readings, and ranks it behind measured ones', () => {
    const unmeasured = estimateRttMs(PARIS, { ...PARIS, probes: [] }, PROBES);
    const measuredNode = estimateRttMs(PARIS, { ...PARIS, probes: measured(PARIS, 5) }, PROBES);
    expect(Number.isFinite(unmeasured)).toBe(true);
    expect(unmeasured).toBeGreaterThan(measuredNode);
  });

  it('takes the renter region detour out of local nodes and adds it to far ones', () => {
    const index = buildProbeIndex(PROBES);
    // Paris reaches every probe 15 ms slower than geography says: its region has a detour.
    const neighbours = [0.5, 1, 2, 3].map((access) => profileNode({ ...PARIS, probes: measured(PARIS, access + 15) }, index));
    const local = profileNode({ ...PARIS, probes: measured(PARIS, 15 + 4) }, index);
    const far = profileNode({ lat: 52.52, lon: 13.4, probes: measured({ lat: 52.52, lon: 13.4 }, 1) }, index);
    const bare = clientView(PARIS, index);
    const informed = clientView(PARIS, index, DEFAULT_RTT_PARAMS, regionFromProfiles(PARIS, neighbours, index));
    expect(informed.regionMs).toBeGreaterThan(14);
    expect(estimateFromProfile(informed, local)).toBeLessThan(estimateFromProfile(bare, local));
    expect(estimateFromProfile(informed, local)).toBeLessThan(estimateFromProfile(informed, far));
    expect(estimateFromProfile(informed, far)).toBeGreaterThan(estimateFromProfile(bare, far) - 1);
  });
});
