// D1 batches have no interactive transactions, so a guard that must abort a batch is a
// statement that errors. `json_extract('{}', <bad path>)` fails with a message that names the
// path, which lets the caller tell which guard fired.

export function assertChanged(db: D1Database, code: string): D1PreparedStatement {
  return db.prepare(`SELECT json_extract('{}', ?1) WHERE changes() = 0`).bind(`assert:${code}`);
}

/** Aborts the batch unless the statement before it changed exactly `rows` rows. */
export function assertChangedExactly(db: D1Database, code: string, rows: number): D1PreparedStatement {
  return db.prepare(`SELECT json_extract('{}', ?1) WHERE changes() <> ?2`).bind(`assert:${code}`, rows);
}

export function assertionFailed(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const match = /assert:([a-z_]+)/.exec(e.message);
    if (match) return match[1]!;
  }
  return null;
}
