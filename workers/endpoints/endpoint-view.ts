import type * as z from 'zod';
import { REPLICA_ROW_STATES } from '../../db/schema/endpoints.ts';
import { TTFB_COLUMNS, medianFromBuckets } from '../gateway/traffic-stats.ts';
import { formatAmount } from '../lib/amounts.ts';
import type { EndpointRow, ReplicaWithNode, TrafficSums } from './endpoints.repo.ts';
import type { endpointKeyViewSchema, endpointTrafficSchema, endpointViewSchema, replicaViewSchema } from './endpoint-view.schema.ts';
import type { EndpointKeyRow } from './endpoint-keys.ts';

// Rows → the API's views (endpoint-view.schema.ts). Pure.

const iso = (ms: number) => new Date(ms).toISOString();

export function endpointView(e: EndpointRow, decimals: number): z.output<typeof endpointViewSchema> {
  return {
    id: e.id,
    name: e.name,
    url: `/e/${e.id}/`,
    status: e.status,
    statusReason: e.statusReason,
    image: e.image,
    command: JSON.parse(e.command) as string[],
    envNames: Object.keys(JSON.parse(e.env) as Record<string, string>).sort(),
    port: e.port,
    healthPath: e.healthPath,
    gpu: { models: e.gpuModels === null ? null : (JSON.parse(e.gpuModels) as string[]), count: e.gpuCount, minVramMb: e.minVramMb },
    replicas: { min: e.minReplicas, max: e.maxReplicas, desired: e.desiredReplicas },
    regions: (JSON.parse(e.regions) as { lat: number; lon: number }[]).map((r) => ({ lat: r.lat, lon: r.lon })),
    maxPricePerGpuHour: formatAmount(e.maxPricePerGpuHour, decimals),
    scaling: { targetInflight: e.targetInflight, idleS: e.idleS },
    public: e.public,
    pathPrefix: e.pathPrefix,
    generation: e.generation,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function replicaView(r: ReplicaWithNode, decimals: number): z.output<typeof replicaViewSchema> {
  const state = (REPLICA_ROW_STATES as readonly string[]).includes(r.state) ? (r.state as (typeof REPLICA_ROW_STATES)[number]) : 'placed';
  return {
    id: r.id,
    nodeId: r.nodeId,
    state,
    ready: state === 'ready',
    reason: r.reason,
    location: r.lat === null || r.lon === null ? null : { lat: r.lat, lon: r.lon, country: r.country ?? '' },
    generation: r.generation,
    pricePerGpuHour: formatAmount(r.pricePerGpuHour, decimals),
    gpuCount: r.gpuCount,
    placedAt: iso(r.placedAt),
    readySince: r.readySince === null ? null : iso(r.readySince),
    billed: formatAmount(r.billedAmount, decimals),
  };
}

export function trafficView(sums: TrafficSums, windowMinutes: number): z.output<typeof endpointTrafficSchema> {
  return {
    windowMinutes,
    requests: sums.requests,
    // One decimal: a few requests an hour still show as more than nothing.
    requestsPerMinute: Math.round((sums.requests / windowMinutes) * 10) / 10,
    errors: sums.errors,
    medianTtfbMs: medianFromBuckets(sums.buckets.length === TTFB_COLUMNS.length ? sums.buckets : []),
  };
}

export function endpointKeyView(k: EndpointKeyRow): z.output<typeof endpointKeyViewSchema> {
  return { id: k.prefix, name: k.name, createdAt: iso(k.createdAt), revokedAt: k.revokedAt === null ? null : iso(k.revokedAt) };
}
