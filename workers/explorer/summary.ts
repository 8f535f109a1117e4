import { formatAmount } from '../lib/amounts.ts';
import type { CellRow, ModelRow, StatusRow } from './summary.repo.ts';

// The network summary of `GET /v1/network/summary` and the explorer's totals. Pure: built from
// the rows of summary.repo.ts. Only what the registry knows is here; panels for jobs, epochs
// and proposals bring their own data (panels/).

/** One map dot: the online nodes of one 1° cell, real and simulated apart. */
export type Dot = [lat: number, lon: number, gpus: number, simulated: 0 | 1, nodes: number];

export interface NetworkSummary {
  generatedAt: string;
  nodes: { online: number; offline: number; simulatedOnline: number };
  gpus: { online: number; simulatedOnline: number };
  models: { model: string; gpus: number; simulatedGpus: number; nodes: number; medianPricePerGpuHour: string }[];
  countries: { country: string; nodes: number; gpus: number; simulatedNodes: number }[];
  /** `[lat, lon, gpus, simulated, nodes]`, nodes within one degree grouped at their mean position. */
  dots: Dot[];
}

export function buildSummary(
  rows: { cells: CellRow[]; models: ModelRow[]; statuses: StatusRow[] },
  decimals: number,
  nowMs: number,
): NetworkSummary {
  const countries = new Map<string, NetworkSummary['countries'][number]>();
  const dots: Dot[] = [];
  let online = 0;
  let simulatedOnline = 0;
  let gpus = 0;
  let simulatedGpus = 0;
  for (const cell of rows.cells) {
    const simulated = cell.simulated ? 1 : 0;
    online += cell.nodes;
    gpus += cell.gpus;
    if (simulated) {
      simulatedOnline += cell.nodes;
      simulatedGpus += cell.gpus;
    }
    const country = countries.get(cell.country) ?? { country: cell.country, nodes: 0, gpus: 0, simulatedNodes: 0 };
    country.nodes += cell.nodes;
    country.gpus += cell.gpus;
    if (simulated) country.simulatedNodes += cell.nodes;
    countries.set(cell.country, country);
    dots.push([round1(cell.sum_lat / cell.nodes), round1(cell.sum_lon / cell.nodes), cell.gpus, simulated, cell.nodes]);
  }
  // Real dots last, so they are drawn on top of simulated ones at the same place.
  dots.sort((a, b) => b[3] - a[3] || b[2] - a[2]);
  const statusCount = (s: string) => rows.statuses.find((r) => r.status === s)?.nodes ?? 0;
  return {
    generatedAt: new Date(nowMs).toISOString(),
    nodes: { online, offline: statusCount('offline'), simulatedOnline },
    gpus: { online: gpus, simulatedOnline: simulatedGpus },
    models: rows.models.map((m) => ({
      model: m.model,
      gpus: m.gpus,
      simulatedGpus: m.simulated_gpus,
      nodes: m.nodes,
      medianPricePerGpuHour: formatAmount(Math.floor((m.median_lo + m.median_hi) / 2), decimals),
    })),
    countries: [...countries.values()].sort((a, b) => b.nodes - a.nodes || b.gpus - a.gpus || a.country.localeCompare(b.country)),
    dots,
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
