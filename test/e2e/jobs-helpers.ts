// Renters and job polling for the jobs end-to-end suites, through the public and dev routes.
import { parseSimulateSpec } from '../../edge-agent/src/simulate.ts';
import { encodeBase58 } from '../../protocol/base58.ts';
import type { LocalStack } from '../support/local-stack.ts';
import { initAgent, runAgent, waitFor, type AgentProcess, type AgentSetup } from './agent-process.ts';

export interface E2eRenter {
  accountId: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  balance(): Promise<number>;
}

export async function newRenter(stack: LocalStack, tokens = '100.000000'): Promise<E2eRenter> {
  const created = (await (await fetch(`${stack.url}/v1/dev/accounts`, { method: 'POST' })).json()) as { accountId: string; apiKey: string };
  const faucet = await fetch(`${stack.url}/v1/dev/faucet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: created.accountId, amount: tokens }),
  });
  if (faucet.status !== 201) throw new Error(`faucet: ${faucet.status} ${await faucet.text()}`);
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    accountId: created.accountId,
    call,
    balance: async () => Number(((await (await call('GET', '/v1/accounts/me/balance')).json()) as { baseUnits: string }).baseUnits),
  };
}

/** A fresh owner wallet, so an operator's earnings can be told apart. */
export const newOwner = () => encodeBase58(crypto.getRandomValues(new Uint8Array(32)));

export interface ReadyAgent extends AgentProcess {
  operator: { accountId: string; wallet: string; apiKey: string };
}

/**
 * A running agent whose node is ready for jobs, set up as an operator would: a dev account whose
 * wallet owns the node, the agent started (it registers and answers its hardware challenge by
 * itself), tokens from the faucet, the minimum stake per GPU bonded through the staking route.
 * Resolves once the node is online and eligible. `url`: where the agent talks (a proxy, say).
 */
export async function readyAgent(stack: LocalStack, setup: Omit<AgentSetup, 'url' | 'owner'> & { url?: string }): Promise<ReadyAgent> {
  const operator = (await (await fetch(`${stack.url}/v1/dev/accounts`, { method: 'POST' })).json()) as ReadyAgent['operator'];
  const agent = runAgent(initAgent({ ...setup, url: setup.url ?? stack.url, owner: operator.wallet }));
  try {
    await becomeEligible(stack, agent, setup, operator);
  } catch (error) {
    await agent.stop('SIGKILL');
    throw error;
  }
  return Object.assign(agent, { operator });
}

async function becomeEligible(
  stack: LocalStack,
  agent: AgentProcess,
  setup: { name: string; simulateGpus: string },
  operator: ReadyAgent['operator'],
): Promise<void> {
  const node = () =>
    fetch(`${stack.url}/v1/nodes/${agent.nodeId}`).then(async (r) => (r.ok ? ((await r.json()) as Record<string, any>) : undefined));
  await waitFor(`${setup.name} registered`, async () => ((await node())?.status === 'online' ? true : undefined));
  const params = (await (await fetch(`${stack.url}/v1/governance/params`)).json()) as { params: { name: string; value: string }[] };
  const perGpu = baseUnits(params.params.find((p) => p.name === 'min_stake_per_gpu')!.value);
  const gpus = parseSimulateSpec(setup.simulateGpus).reduce((n, g) => n + g.count, 0);
  const amount = ((perGpu * gpus) / 1_000_000).toFixed(6);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${operator.apiKey}`, ...headers },
      body: JSON.stringify(body),
    });
  const funded = await post('/v1/dev/faucet', { accountId: operator.accountId, amount });
  if (funded.status !== 201) throw new Error(`faucet: ${funded.status} ${await funded.text()}`);
  const staked = await post('/v1/staking/stake', { nodeId: agent.nodeId, amount }, { 'Idempotency-Key': `ready-${agent.nodeId}` });
  if (staked.status !== 201) throw new Error(`stake: ${staked.status} ${await staked.text()}`);
  await waitFor(`${setup.name} verified and eligible`, async () => ((await node())?.eligible === true ? true : undefined));
}

export async function jobOf(renter: E2eRenter, id: string): Promise<Record<string, any>> {
  return (await (await renter.call('GET', `/v1/jobs/${id}`)).json()) as Record<string, any>;
}

export function waitForStatus(renter: E2eRenter, id: string, statuses: string[], timeoutMs = 30_000, tick?: () => Promise<void>) {
  return waitFor(
    `job ${id} to reach ${statuses.join('/')}`,
    async () => {
      await tick?.();
      const job = await jobOf(renter, id);
      return statuses.includes(job.status) ? job : undefined;
    },
    timeoutMs,
  );
}

export async function reconciled(stack: LocalStack): Promise<boolean> {
  const res = await fetch(`${stack.url}/v1/admin/ledger/reconcile`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return ((await res.json()) as { ok: boolean }).ok;
}

/** The bill is exact to the base unit: capture from the billed GPU-seconds, fee, refund. */
export function expectedBill(priceBaseUnits: number, escrow: number, billedGpuSeconds: number, feeBps = 1000) {
  const captured = Math.min(escrow, Math.floor((priceBaseUnits * billedGpuSeconds) / 3600));
  const fee = Math.floor((captured * feeBps) / 10_000);
  return { captured, fee, operator: captured - fee, refunded: escrow - captured };
}

export const baseUnits = (amount: string) => Math.round(Number(amount) * 1_000_000);
