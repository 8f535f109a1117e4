import { env } from 'cloudflare:workers';
import { getConfig, type Config } from '../../../workers/config.ts';
import { solveChallenge } from '../../../protocol/matmul-challenge.ts';
import { api, newAgent, registration, type TestAgent } from './agent.ts';
import { mintTo } from './ledger.ts';

// Staking test helpers: dev accounts with API keys and tokens, nodes owned by them, verified
// through the real challenge routes.

export interface TestAccount {
  accountId: string;
  apiKey: string;
  wallet: string;
}

export async function devAccount(tokens = 0): Promise<TestAccount> {
  const res = await api('/v1/dev/accounts', { method: 'POST' });
  if (res.status !== 201) throw new Error(`dev account: ${res.status} ${await res.text()}`);
  const account = (await res.json()) as TestAccount;
  // Funded by a ledger mint: the faucet route is development-only.
  if (tokens > 0) await mintTo(account.accountId, tokens * 10 ** getConfig(env).TOKEN_DECIMALS);
  return account;
}

export function authed(account: TestAccount, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return api(path, {
    method,
    headers: { authorization: `Bearer ${account.apiKey}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A node owned by `owner`, simulated RTX 4090 ×2 unless told otherwise. */
export async function ownedNode(owner: TestAccount, overrides: Record<string, unknown> = {}): Promise<TestAgent> {
  const agent = await newAgent();
  const res = await agent.send(
    'POST',
    '/v1/nodes',
    registration({
      owner: owner.wallet,
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }],
      ...overrides,
    }),
  );
  if (res.status !== 201) throw new Error(`registration: ${res.status} ${await res.text()}`);
  return agent;
}

export interface WireChallenge {
  id: string;
  kind: string;
  seed: string;
  n: number;
  products: number;
  simulated: boolean;
  deadlineMs: number;
}

export async function fetchChallenge(agent: TestAgent): Promise<WireChallenge | undefined> {
  const res = await agent.send('GET', `/v1/nodes/${agent.nodeId}/challenges`);
  if (res.status !== 200) throw new Error(`challenges: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { challenges: WireChallenge[] }).challenges[0];
}

export async function answer(agent: TestAgent, challenge: WireChallenge, digests: Uint8Array) {
  const res = await agent.send('POST', `/v1/nodes/${agent.nodeId}/challenges/${challenge.id}/answer`, {
    digests: btoa(String.fromCharCode(...digests)),
  });
  return { status: res.status, body: (await res.json()) as { status: string; failure: string | null } };
}

/** Polls, computes the answer on the CPU and sends it: the honest simulated node. */
export async function verifyNode(agent: TestAgent) {
  const challenge = await fetchChallenge(agent);
  if (!challenge) throw new Error('no challenge');
  const result = await answer(agent, challenge, await solveChallenge(challenge));
  if (result.body.status !== 'passed') throw new Error(`verification: ${JSON.stringify(result.body)}`);
  return result;
}

export const testConfig = (overrides: Partial<Config> = {}): Config => ({ ...getConfig(env), ...overrides });

export async function sql<T>(query: string, ...params: unknown[]): Promise<T[]> {
  return (
    await env.DB.prepare(query)
      .bind(...params)
      .all<T>()
  ).results;
}
