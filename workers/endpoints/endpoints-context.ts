import { dbOf, type Db } from '../app-env.ts';
import { getConfig, type Config } from '../config.ts';
import type { Env } from '../env.ts';

/** What the endpoints control plane works with: from a route, the cron or the tunnel object. */
export interface EndpointsContext {
  db: Db;
  env: Env;
  config: Config;
  /** Wallet → ledger account id, so a cron run creates or reads each operator account once. */
  operatorAccounts: Map<string, string>;
}

export function endpointsContext(env: Env, db?: Db): EndpointsContext {
  return { db: db ?? dbOf(env), env, config: getConfig(env), operatorAccounts: new Map() };
}
