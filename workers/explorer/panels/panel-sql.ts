import type { Db } from '../../app-env.ts';

// Small helpers for the panels' reads: each panel runs its own bounded statements on D1.

export async function rows<T>(db: Db, query: string, ...params: unknown[]): Promise<T[]> {
  return (
    await db.$client
      .prepare(query)
      .bind(...params)
      .all<T>()
  ).results;
}

/** "acc_3f9a…b21c": enough to tell accounts apart on a public page without printing them whole. */
export function shortId(id: string): string {
  return id.length <= 14 ? id : `${id.slice(0, 8)}…${id.slice(-4)}`;
}
