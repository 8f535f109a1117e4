// The D1 binding types that the worker code this bench drives names as globals. The Worker's
// typecheck gets them from @cloudflare/workers-types; this Node-side typecheck (tsconfig.node.json)
// cannot load those beside the DOM and Node libraries, so the few members used are declared here.
declare global {
  interface D1Meta {
    changes?: number;
    rows_written?: number;
    rows_read?: number;
    [key: string]: unknown;
  }
  interface D1Result<T = unknown> {
    results: T[];
    success: boolean;
    meta: D1Meta;
  }
  interface D1PreparedStatement {
    bind(...values: unknown[]): D1PreparedStatement;
    first<T = unknown>(column?: string): Promise<T | null>;
    run<T = unknown>(): Promise<D1Result<T>>;
    all<T = unknown>(): Promise<D1Result<T>>;
    raw<T = unknown[]>(): Promise<T[]>;
  }
  interface D1Database {
    prepare(query: string): D1PreparedStatement;
    batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]>;
    exec(query: string): Promise<unknown>;
  }
}
export {};
