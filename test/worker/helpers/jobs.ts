import { env } from 'cloudflare:workers';
import { findOrCreateWalletAccount } from '../../../workers/accounts/accounts.repo.ts';
import { issueApiKey } from '../../../workers/accounts/api-keys.ts';
import { getConfig } from '../../../workers/config.ts';
import { getParams } from '../../../workers/governance/params.repo.ts';
import { formatAmount, parseAmount } from '../../../workers/lib/amounts.ts';
import { api, newAgent, registration, type TestAgent } from './agent.ts';
import { mintTo, testDb } from './ledger.ts';
import { authed, devAccount, verifyNode, type TestAccount } from './staking.ts';

// Renters and nodes for the jobs suites, made through the public and dev routes.

export interface Renter {
  accountId: string;
  apiKey: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function newRenter(tokens = '100.000000'): Promise<Renter> {
  const res = await api('/v1/dev/accounts', { method: 'POST' });
  if (res.status !== 201) throw new Error(`dev account: ${res.status} ${await res.text()}`);
  const { accountId, apiKey } = (await res.json()) as { accountId: string; apiKey: string };
  // Funded by a ledger mint: the faucet route is development-only.
  await mintTo(accountId, baseUnitsOf(tokens));
  return {
    accountId,
    apiKey,
    call: (method, path, body, headers = {}) =>
      api(path, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  };
}

function baseUnitsOf(tokens: string): number {
  const parsed = parseAmount(tokens, getConfig(env).TOKEN_DECIMALS);
  if (!parsed.ok) throw new Error(`amount ${tokens}: ${parsed.reason}`);
  return parsed.baseUnits;
}

export interface ReadyNode extends TestAgent {
  operator: TestAccount;
}

/**
 * A node ready for jobs, made the way an operator makes one: an account owning the node's wallet
 * (a dev account, or the wallet given as `owner`), tokens minted by the test, the node registered
 * (simulated GPUs, which development accepts), its hardware challenge answered through the
 * signed challenge routes, and the minimum stake per GPU bonded through POST /v1/staking/stake.
 * Fails unless the node ends `eligible`.
 */
export async function readyNode(overrides: Record<string, unknown> = {}): Promise<ReadyNode> {
  const operator = typeof overrides.owner === 'string' ? await accountOf(overrides.owner) : await devAccount();
  const reg = registration({ ...overrides, owner: operator.wallet });
  const gpus = (reg.gpus as { count: number; simulated?: boolean }[]).map((g) => ({ simulated: true, ...g }));
  const agent = await newAgent();
  const res = await agent.send('POST', '/v1/nodes', { ...reg, gpus });
  if (res.status !== 201) throw new Error(`registration: ${res.status} ${await res.text()}`);
  await verifyNode(agent);
  const config = getConfig(env);
  const stake = (await getParams(testDb(), config)).min_stake_per_gpu * gpus.reduce((n, g) => n + g.count, 0);
  const amount = formatAmount(stake, config.TOKEN_DECIMALS);
  await mintTo(operator.accountId, stake);
  const staked = await authed(
    operator,
    'POST',
    '/v1/staking/stake',
    { nodeId: agent.nodeId, amount },
    { 'Idempotency-Key': `ready-${agent.nodeId}` },
  );
  if (staked.status !== 201 && staked.status !== 200) throw new Error(`stake: ${staked.status} ${await staked.text()}`);
  const row = await env.DB.prepare('SELECT eligible FROM nodes WHERE id = ?').bind(agent.nodeId).first<{ eligible: number }>();
  if (row?.eligible !== 1) throw new Error(`node ${agent.nodeId} is not eligible after staking and verification`);
  return { ...agent, operator };
}

/** An existing wallet's account with an API key (the owner a test linked to a chat, say). */
async function accountOf(wallet: string): Promise<TestAccount> {
  const db = testDb();
  const account = await findOrCreateWalletAccount(db, wallet);
  return {
    accountId: account.id,
    wallet,
    apiKey: (await issueApiKey(db, account.id, 'dev', { maxLive: getConfig(env).API_KEYS_PER_ACCOUNT })).apiKey,
  };
}

/** A node ready for jobs at a place (see readyNode). */
export function nodeAt(lat: number, lon: number, country: string, overrides: Record<string, unknown> = {}): Promise<ReadyNode> {
  return readyNode({ location: { lat, lon, country }, ...overrides });
}

export const jobBody = (overrides: Record<string, unknown> = {}) => ({
  gpu: { model: 'RTX 4090', count: 1 },
  durationS: 600,
  image: 'python:3.12-slim',
  command: ['python', '-c', 'print(1)'],
  env: { HF_TOKEN: 'hf_supersecretvalue' },
  client: { lat: 48.85, lon: 2.35 },
  ...overrides,
});

let eventCounter = 0;
export function sendEvent(agent: TestAgent, jobId: string, event: Record<string, unknown>): Promise<Response> {
  return agent.send('POST', `/v1/nodes/${agent.nodeId}/jobs/${jobId}/events`, { eventId: `ev-${++eventCounter}`, ...event });
}

export async function json<T = Record<string, any>>(res: Response, status?: number): Promise<T> {
  const text = await res.text();
  if (status !== undefined && res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}
