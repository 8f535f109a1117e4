import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { notFound } from '../errors.ts';
import { validate } from '../http/body.ts';
import { jsonInput, paramInput } from '../http/validator.ts';
import { probeIdSchema } from '../nodes/node-input.schema.ts';
import { deleteProbePoint, listProbePoints, probePointExists, upsertProbePoint } from './probes.repo.ts';

const probeBodySchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  url: z
    .url({ protocol: /^https?$/ })
    .max(512)
    .nullable()
    .optional(),
});

/** The probe id before the body, with the answer it always had (a bad id: `body: …`). */
const probeParam = paramInput(z.object({ id: probeIdSchema }), { unnamed: true });

const view = (p: { id: string; lat: number; lon: number; url: string | null }) => ({
  id: p.id,
  lat: p.lat,
  lon: p.lon,
  ...(p.url ? { url: p.url } : {}),
});

export const probesApp = new Hono<AppEnv>().get('/', async (c) => {
  const rows = await listProbePoints(c.var.db);
  return c.json(rows.map(view));
});

export const adminProbesApp = new Hono<AppEnv>()
  .use(requireAdmin)
  .put('/:id', probeParam, jsonInput(probeBodySchema, { anyContentType: true }), async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const values = { id, lat: body.lat, lon: body.lon, url: body.url ?? null, updatedAt: Date.now() };
    const existing = await probePointExists(c.var.db, id);
    await upsertProbePoint(c.var.db, values);
    return c.json(view(values), existing ? 200 : 201);
  })
  .delete('/:id', async (c) => {
    const id = validate(probeIdSchema, c.req.param('id'));
    if (!(await deleteProbePoint(c.var.db, id))) throw notFound('Probe point');
    return c.body(null, 204);
  });
