import type { Db } from '../app-env.ts';

// drizzle 0.45 cannot put a raw `sql` query with parameters into `db.batch` (its SQLiteRaw has
// no prepared statement to bind), and the ledger needs raw SQL (json_each, RETURNING, window
// functions) in the same batch as builder queries. So ledger batches go to D1 directly: builder
// queries are turned into D1 statements with their own SQL and parameters.

export type BatchStatement = D1PreparedStatement | { toSQL(): { sql: string; params: unknown[] } };

export function toD1Statement(db: Db, statement: BatchStatement): D1PreparedStatement {
  if ('toSQL' in statement) {
    const { sql, params } = statement.toSQL();
    return db.$client.prepare(sql).bind(...params);
  }
  return statement;
}

/** One D1 batch, i.e. one SQLite transaction: every statement or none. */
export function runBatch(db: Db, statements: BatchStatement[]): Promise<D1Result[]> {
  return db.$client.batch(statements.map((s) => toD1Statement(db, s)));
}
