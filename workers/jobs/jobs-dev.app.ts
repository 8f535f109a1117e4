import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { parseJsonBytes, readRawBody, validate } from '../http/body.ts';
import { geoCell } from '../routing/geo.ts';
import { buildProbeIndex } from '../routing/rtt-model.ts';
import { nodeRttExcess } from '../routing/route-rank.ts';
import { listProbePoints } from '../probes/probes.repo.ts';
import { seedNodes } from './dev-seed.repo.ts';

// Development only: seed many synthetic nodes straight into D1, so the quote bench can measure the
// real quote path over 100,000 nodes without 100,000 agents. Absent (404) in production.

const seedSchema = z.strictObject({
  nodes: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(64),
        lat: z.number().min(-90).max(90),
        lon: z.number().min(-180).max(180),
        country: z.string().length(2),
        pricePerGpuHour: z.number().int().positive(),
        reputation: z.number().min(0).max(1).default(1),
        onlineMs: z.number().int().min(0).default(0),
        /** Bonded stake in base units, and whether the node passes staking's eligibility (synthetic: no stakes rows). */
        stakeTotal: z.number().int().min(0).default(0),
        eligible: z.boolean().default(true),
        probes: z.array(z.strictObject({ target: z.string(), rttMs: z.number() })).max(64),
        gpus: z
          .array(
            z.strictObject({ model: z.string(), canonicalModel: z.string(), vramMb: z.number().int(), count: z.number().int().min(1) }),
          )
          .min(1)
          .max(4),
      }),
    )
    .max(2000),
});

export const jobsDevApp = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (!c.var.config.isDevelopment) throw new AppError(404, 'not_found', 'There is no such route.');
    await next();
  })
  .post('/seed-nodes', async (c) => {
    const { nodes } = validate(seedSchema, parseJsonBytes(await readRawBody(c, 8 * 1024 * 1024)));
    const now = Date.now();
    // The measured excess a fold would store (workers/live/fold.ts), so the route rank is as in production.
    const points = await listProbePoints(c.var.db);
    const index = buildProbeIndex(new Map(points.map((p) => [p.id, { lat: p.lat, lon: p.lon }])));
    const rows = nodes.map((n) => {
      return {
        ...n,
        cell: geoCell(n.lat, n.lon),
        probes: JSON.stringify(n.probes),
        registeredAt: now - 86_400_000,
        eligible: n.eligible ? (1 as const) : (0 as const),
        excess: nodeRttExcess({ lat: n.lat, lon: n.lon, probes: n.probes }, index),
      };
    });
    const gpus = rows.flatMap((n) => n.gpus.map((g) => ({ nodeId: n.id, ...g, cell: n.cell })));
    await seedNodes(c.var.db, rows, gpus, now);
    return c.json({ seeded: nodes.length });
  });
