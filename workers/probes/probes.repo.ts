import { asc, eq } from 'drizzle-orm';
import { probePoints } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

// The probe points' queries (routes in probes.app.ts).

export type ProbePointRow = typeof probePoints.$inferSelect;

export function listProbePoints(db: Db) {
  return db.select().from(probePoints).orderBy(asc(probePoints.id));
}

export async function probePointExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: probePoints.id }).from(probePoints).where(eq(probePoints.id, id)).get()) !== undefined;
}

export function upsertProbePoint(db: Db, values: { id: string; lat: number; lon: number; url: string | null; updatedAt: number }) {
  return db
    .insert(probePoints)
    .values(values)
    .onConflictDoUpdate({
      target: probePoints.id,
      set: { lat: values.lat, lon: values.lon, url: values.url, updatedAt: values.updatedAt },
    });
}

/** True when there was such a point. */
export async function deleteProbePoint(db: Db, id: string): Promise<boolean> {
  const deleted = await db.delete(probePoints).where(eq(probePoints.id, id)).returning({ id: probePoints.id });
  return deleted.length > 0;
}
