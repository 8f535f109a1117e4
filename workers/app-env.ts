import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import * as schema from '../db/schema.ts';
import type { Config } from './config.ts';
import type { Env } from './env.ts';

/** The drizzle client; `$client` is the D1 binding underneath, for raw batches (workers/ledger/d1-batch.ts). */
export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

/**
 * One `Db` per D1 binding per isolate. Building one walks the whole schema for drizzle's relational
 * config, and workers/app.ts asks for it on every request, the endpoint gateway's hot path included;
 * the client holds no per-request state, so the same one serves every request on that binding (a
 * test harness that hands a file its own binding gets its own `Db`).
 */
const dbs = new WeakMap<D1Database, Db>();

/**
 * The one way to reach D1 (CONTRIBUTING.md, "Reaching D1"): routes get this as `c.var.db` (made
 * by workers/app.ts), crons, queue consumers and Durable Objects make it here from their env.
 * Queries use its builders; raw SQL goes through `db.$client`, in repos and data steps, never in routes.
 */
export function dbOf(env: { DB: D1Database }): Db {
  let db = dbs.get(env.DB);
  if (!db) {
    db = drizzle(env.DB, { schema });
    dbs.set(env.DB, db);
  }
  return db;
}

/** Hono's typing for every sub-app: bindings plus what middleware puts on the context. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    db: Db;
    /** Set by the agent-signature middleware on signed routes. */
    agent: SignedAgent;
    /** Set by `requireAccount` on routes that need an API key. */
    account: AuthenticatedAccount;
    /** Rate-limit budgets this request was already counted in (workers/limits/rate-limit.ts). */
    rateLimited: Set<string>;
  };
}

export interface AuthenticatedAccount {
  id: string;
  wallet: string;
  /** SHA-256 of the API key the request came with. */
  keyHash: string;
}

export interface SignedAgent {
  nodeId: string;
  nonce: string;
  timestampMs: number;
  /** Raw body bytes, exactly as signed. */
  body: Uint8Array<ArrayBuffer>;
}
