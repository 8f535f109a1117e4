import { asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import * as z from 'zod';
import { probePoints } from '../../db/schema.ts';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { notFound } from '../errors.ts';
import { jsonBody, validate } from '../http/body.ts';
import { probeIdSchema } from '../nodes/node-input.schema.ts';

const probeBodySchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  url: z
    .url({ protocol: /^https?$/ })
    .max(512)
    .nullable()
    .optional(),
});

const view = (p: { id: string; lat: number; lon: number; url: string | null }) => ({
  id: p.id,
  lat: p.lat,
  lon: p.lon,
  ...(p.url ? { url: p.url } : {}),
});

export const probesApp = new Hono<AppEnv>().get('/', async (c) => {
  const rows = await c.var.db.select().from(probePoints).orderBy(asc(probePoints.id));
  return c.json(rows.map(view));
});

export const adminProbesApp = new Hono<AppEnv>()
  .use(requireAdmin)
  .put('/:id', async (c) => {
    const id = validate(probeIdSchema, c.req.param('id'));
    const body = await jsonBody(c, probeBodySchema);
    const values = { id, lat: body.lat, lon: body.lon, url: body.url ?? null, updatedAt: Date.now() };
    const existing = await c.var.db.select({ id: probePoints.id }).from(probePoints).where(eq(probePoints.id, id)).get();
    await c.var.db
      .insert(probePoints)
      .values(values)
      .onConflictDoUpdate({ target: probePoints.id, set: { lat: values.lat, lon: values.lon, url: values.url, updatedAt: values.updatedAt } });
    return c.json(view(values), existing ? 200 : 201);
  })
  .delete('/:id', async (c) => {
    const id = validate(probeIdSchema, c.req.param('id'));
    const deleted = await c.var.db.delete(probePoints).where(eq(probePoints.id, id)).returning({ id: probePoints.id });
    if (deleted.length === 0) throw notFound('Probe point');
    return c.body(null, 204);
  });
