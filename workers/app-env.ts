import type { DrizzleD1Database } from 'drizzle-orm/d1';
import type * as schema from '../db/schema.ts';
import type { Config } from './config.ts';
import type { Env } from './env.ts';

export type Db = DrizzleD1Database<typeof schema>;

/** Hono's typing for every sub-app: bindings plus what middleware puts on the context. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    db: Db;
    /** Set by the agent-signature middleware on signed routes. */
    agent: SignedAgent;
  };
}

export interface SignedAgent {
  nodeId: string;
  nonce: string;
  timestampMs: number;
  /** Raw body bytes, exactly as signed. */
  body: Uint8Array;
}
