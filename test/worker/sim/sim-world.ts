import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../../../db/schema.ts';
import type { Db } from '../../../workers/app-env.ts';
import { getConfig, type Config } from '../../../workers/config.ts';
import type { Env } from '../../../workers/env.ts';
import type { JobsContext } from '../../../workers/jobs/jobs.service.ts';
import { shardFor } from '../../../workers/live/shard-stub.ts';
import { loadSettlement, type Settlement } from '../../../workers/settlement/settlement-env.ts';
import { randomNonce } from '../helpers/agent.ts';
import { readyNode, type ReadyNode } from '../helpers/jobs.ts';
import { chainControl, newChainWallet } from '../helpers/solana.ts';
import { devAccount, type TestAccount } from '../helpers/staking.ts';
import type { Rng } from '../../support/seeded-random.ts';
import { FaultyD1 } from './faulty-d1.ts';

// The simulated world: real accounts, nodes (registered, verified and staked through the real
// routes), chain wallets on the suite's litesvm cluster, and the handles the simulator drives
// the domain with. Everything the domain code sees of D1 goes through one FaultyD1.

/** Epochs this short make the simulated clock cross several closes per seed. */
export const SIM_EPOCH_S = 600;

export interface SimNode {
  name: string;
  agent: ReadyNode;
  alive: boolean;
  lat: number;
  lon: number;
}

export interface SimAccount {
  name: string;
  account: TestAccount;
  /** A chain wallet holding our mint and the look-alike, for deposits. */
  chainWallet: string;
}

/** One agent's plan for one job on one node: the events it will send, in its order. */
export interface AgentScript {
  jobId: string;
  node: SimNode;
  plan: ('accepted' | 'rejected' | 'started' | 'log' | 'finished')[];
  /** Events built and sent so far (kept whole, so a duplicate is the same bytes). */
  sent: { eventId: string; event: Record<string, unknown> }[];
  logSeq: number;
}

export interface SimJob {
  id: string;
  renter: SimAccount;
  scripts: AgentScript[];
}

export interface SimDeposit {
  reference: string;
  owner: SimAccount;
  held: boolean;
  payments: { signature: string; amount: number; ours: boolean; landed: boolean }[];
}

export interface SimPayout {
  id: string;
  owner: SimAccount;
  destination: string;
  amount: number;
}

export interface World {
  seed: number;
  faulty: FaultyD1;
  env: Env;
  config: Config;
  db: Db;
  ctx: JobsContext;
  settlement: Settlement;
  nodes: SimNode[];
  accounts: SimAccount[];
  jobs: SimJob[];
  deposits: SimDeposit[];
  payouts: SimPayout[];
  /** Stakes the simulator placed, to unstake from later. */
  stakes: { account: SimAccount; node: SimNode; amount: number }[];
  /** The simulated clock (ms). Every domain call and cron tick gets it; real time is not used. */
  now: number;
  /** Finality holds (deposit references) not yet released. */
  held: Set<string>;
  /** Payouts seen paid on chain for their exact amount (read again only by the final check). */
  paidOnChain: Set<string>;
}

const PLACES: [string, number, number, string][] = [
  ['paris', 48.86, 2.35, 'FR'],
  ['frankfurt', 50.11, 8.68, 'DE'],
  ['madrid', 40.42, -3.7, 'ES'],
  ['warsaw', 52.23, 21.01, 'PL'],
];

export async function buildWorld(seed: number, random: Rng): Promise<World> {
  const faulty = new FaultyD1(env.DB);
  // The scheduled handler and the domain see the same bindings, except D1 (the faulty one) and
  // short epochs with immediate unbonding, so closes, releases and slashes happen within a seed.
  const simEnv = { ...env, DB: faulty as unknown as D1Database, EPOCH_SECONDS: String(SIM_EPOCH_S), UNBONDING_SECONDS: '0' } as Env;
  const config = getConfig(simEnv);
  const db = drizzle(simEnv.DB, { schema }) as Db;
  const nodes: SimNode[] = [];
  for (const [name, lat, lon, country] of PLACES.slice(0, 3 + Math.floor(random() * 2))) {
    const agent = await readyNode({ name, location: { lat, lon, country } });
    nodes.push({ name, agent, alive: true, lat, lon });
  }
  const accounts: SimAccount[] = [];
  for (let i = 0; i < 4; i++) {
    const account = await devAccount(200 + Math.floor(random() * 800));
    const chainWallet = await newChainWallet({ tokens: 1_000_000_000n, lookAlikeTokens: 1_000_000_000n });
    accounts.push({ name: `acct${i}`, account, chainWallet });
  }
  return {
    seed,
    faulty,
    env: simEnv,
    config,
    db,
    ctx: { db, env: simEnv, config },
    settlement: await loadSettlement(simEnv),
    nodes,
    accounts,
    jobs: [],
    deposits: [],
    payouts: [],
    stakes: [],
    now: Date.now(),
    held: new Set(),
    paidOnChain: new Set(),
  };
}

/** A live node's agent heartbeats at the simulated time (straight to its shard, as the route does). */
export async function heartbeatAlive(world: World): Promise<void> {
  await Promise.all(
    world.nodes
      .filter((n) => n.alive)
      .map((n) =>
        shardFor(world.env, n.agent.nodeId).heartbeat({
          nodeId: n.agent.nodeId,
          nonce: randomNonce(),
          timestampMs: world.now,
          nowMs: world.now,
          gpus: [{ index: 0, utilPct: 50, memUsedMb: 1000, tempC: 50, powerW: 200 }],
          probes: [],
        }),
      ),
  );
}

export const control = chainControl;
