// Renters and job polling for the jobs end-to-end suites, through the public and dev routes.
import { encodeBase58 } from '../../workers/protocol/base58.ts';
import type { LocalStack } from '../support/local-stack.ts';
import { waitFor } from './agent-process.ts';

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
