// A crash at the D1 boundary, for the simulator: a D1Database that forwards to the real binding
// and, when armed, dies at its Nth write. "Dies" is what an isolate killed between two awaited
// writes looks like to the code it ran: write N never reaches D1, and from then on every call
// (reads too) fails, so nothing after the crash point happens. Writes 1..N−1 are committed.
// Nothing of our own code is replaced: the domain functions get this as their `db.$client`
// (through drizzle) or as `env.DB` of the scheduled handler.

export class SimCrash extends Error {
  constructor(readonly write: number) {
    super(`sim: crashed before D1 write ${write}`);
    this.name = 'SimCrash';
  }
}

/** True for an error that is (or wraps) the simulator's crash. */
export function isSimCrash(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e instanceof SimCrash || e.name === 'SimCrash' || /sim: crashed before D1 write/.test(e.message)) return true;
  }
  return false;
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i;
const WITH_WRITE = /^\s*WITH\b[\s\S]*\b(INSERT|UPDATE|DELETE)\b/i;

export const isWriteSql = (sql: string) => WRITE.test(sql) || WITH_WRITE.test(sql);

export class FaultyD1 {
  /** Writes (statements run on their own, and batches with a write) since the last arm(). */
  writes = 0;
  /** Crash before this write (1-based); 0: never. */
  private crashAt = 0;
  crashed: SimCrash | null = null;

  constructor(readonly inner: D1Database) {}

  /** From now on, crash before the `at`th write (counting from 1). */
  arm(at: number): void {
    this.writes = 0;
    this.crashAt = at;
    this.crashed = null;
  }

  /** A fresh isolate: no crash pending, nothing dead. */
  disarm(): void {
    this.crashAt = 0;
    this.crashed = null;
  }

  /** Called before every round trip; throws when the isolate is dead or dies now. */
  gate(isWrite: boolean): void {
    if (this.crashed) throw this.crashed;
    if (!isWrite) return;
    this.writes += 1;
    if (this.crashAt > 0 && this.writes >= this.crashAt) {
      this.crashed = new SimCrash(this.writes);
      throw this.crashed;
    }
  }

  prepare(query: string): D1PreparedStatement {
    return new FaultyStatement(this, this.inner.prepare(query), isWriteSql(query)) as unknown as D1PreparedStatement;
  }

  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const inner = statements.map((s) => (s instanceof FaultyStatement ? s.inner : s));
    this.gate(statements.some((s) => !(s instanceof FaultyStatement) || s.isWrite));
    return this.inner.batch<T>(inner);
  }

  async exec(query: string): Promise<D1ExecResult> {
    this.gate(true);
    return this.inner.exec(query);
  }

  withSession(): D1DatabaseSession {
    throw new Error('sim: sessions are not simulated');
  }

  dump(): Promise<ArrayBuffer> {
    return this.inner.dump();
  }
}

class FaultyStatement {
  constructor(
    readonly db: FaultyD1,
    readonly inner: D1PreparedStatement,
    readonly isWrite: boolean,
  ) {}

  bind(...values: unknown[]): FaultyStatement {
    return new FaultyStatement(this.db, this.inner.bind(...values), this.isWrite);
  }

  async first<T>(column?: string): Promise<T | null> {
    this.db.gate(this.isWrite);
    return column === undefined ? this.inner.first<T>() : this.inner.first<T>(column);
  }

  async run<T>(): Promise<D1Result<T>> {
    this.db.gate(this.isWrite);
    return this.inner.run<T>();
  }

  async all<T>(): Promise<D1Result<T>> {
    this.db.gate(this.isWrite);
    return this.inner.all<T>();
  }

  async raw<T>(options?: { columnNames?: boolean }): Promise<T[]> {
    this.db.gate(this.isWrite);
    return options?.columnNames ? (this.inner.raw<T>({ columnNames: true }) as unknown as Promise<T[]>) : this.inner.raw<T>();
  }
}
