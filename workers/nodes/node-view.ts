import { formatAmount } from '../lib/amounts.ts';
import type { LiveView } from '../live/node-shard.do.ts';

// The public node object of PROTOCOL.md. Pure: built from a D1 row, its GPUs and, for the
// detail route, the shard's live view.

export interface NodeRow {
  id: string;
  owner: string;
  name: string;
  status: 'online' | 'offline';
  simulated: boolean;
  lat: number;
  lon: number;
  country: string;
  pricePerGpuHour: number;
  agentVersion: string;
  registeredAt: number;
  lastSeenAt: number;
  onlineMs: number;
  probes: string;
  reputation: number;
  suspended: boolean;
  /** Bonded stake in base units, and the verification/eligibility the staking code maintains. */
  stakeTotal: number;
  verifiedAt: number | null;
  eligible: boolean;
}

export interface GpuRow {
  model: string;
  canonicalModel: string;
  vramMb: number;
  count: number;
  simulated: boolean;
}

export function nodeView(row: NodeRow, gpus: GpuRow[], decimals: number, nowMs: number, live?: LiveView | null) {
  const status = live?.status ?? row.status;
  const lastSeenAt = Math.max(live?.lastSeenAt ?? 0, row.lastSeenAt);
  const onlineMs = Math.max(live?.onlineMs ?? 0, row.onlineMs);
  const lifetimeMs = Math.max(1, nowMs - row.registeredAt);
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    status,
    simulated: row.simulated,
    gpus: gpus.map((g) => ({
      model: g.model,
      canonicalModel: g.canonicalModel,
      vramMb: g.vramMb,
      count: g.count,
      ...(g.simulated ? { simulated: true } : {}),
    })),
    location: { lat: row.lat, lon: row.lon, country: row.country },
    pricePerGpuHour: formatAmount(row.pricePerGpuHour, decimals),
    agentVersion: row.agentVersion,
    registeredAt: new Date(row.registeredAt).toISOString(),
    lastSeenAt: new Date(lastSeenAt).toISOString(),
    uptime: {
      onlineSeconds: Math.floor(onlineMs / 1000),
      ratio: Math.min(1, Math.round((onlineMs / lifetimeMs) * 10_000) / 10_000),
      since: new Date(row.registeredAt).toISOString(),
    },
    reputation: row.reputation,
    stake: formatAmount(row.stakeTotal, decimals),
    verifiedAt: row.verifiedAt === null ? null : new Date(row.verifiedAt).toISOString(),
    eligible: row.eligible,
    suspended: row.suspended,
    ...(live ? { metrics: { gpus: live.gpus, probes: live.probes } } : {}),
  };
}

export type NodeView = ReturnType<typeof nodeView>;
