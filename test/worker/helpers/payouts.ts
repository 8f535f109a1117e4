import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { authed, devAccount, tokenAccountOf, tokenBalance, transactionsOf, type DevAccount } from './solana.ts';
import { mintTo } from './ledger.ts';
import { getWithKey, postJson } from './wallet.ts';

// Withdrawals as a person makes them (the API, an API key, an Idempotency-Key) and what the
// payout tables and the chain show of them afterwards. Amounts in base units of the 6-decimal mint.

export const TOKEN = 1_000_000n;

export interface Withdrawal {
  id: string;
  destination: string;
  /** What left the balance. */
  amount: bigint;
  /** The part kept for the recipient's token-account rent. */
  fee: bigint;
}

export const wholeTokens = (amount: bigint) => `${amount / TOKEN}.${(amount % TOKEN).toString().padStart(6, '0')}`;
/** "1.250000" → 1250000n (the API writes every amount with all 6 decimals). */
export const baseUnits = (text: string) => BigInt(text.replace('.', ''));

/** A dev account holding `tokens` whole tokens, minted through the ledger (the faucet is development-only). */
export async function fundedAccount(tokens: string): Promise<DevAccount> {
  const account = await devAccount();
  await mintTo(account.accountId, Number(tokens) * Number(TOKEN));
  return account;
}

export function requestWithdrawal(
  account: DevAccount,
  body: Record<string, unknown>,
  key: string = crypto.randomUUID(),
): Promise<Response> {
  return postJson('/v1/accounts/me/withdrawals', body, { ...authed(account.apiKey), 'Idempotency-Key': key });
}

export async function withdraw(account: DevAccount, destination: string, amount: bigint): Promise<Withdrawal> {
  const res = await requestWithdrawal(account, { amount: wholeTokens(amount), destination });
  expect(res.status, await res.clone().text()).toBe(201);
  const { payout } = (await res.json()) as { payout: { id: string; fee: string } };
  return { id: payout.id, destination, amount, fee: baseUnits(payout.fee ?? '0.000000') };
}

/** A withdrawal and what reaches its destination on chain: the amount less any rent fee. */
export async function withdrawArriving(
  account: DevAccount,
  destination: string,
  amount: bigint,
): Promise<{ id: string; destination: string; amount: bigint }> {
  const w = await withdraw(account, destination, amount);
  return { id: w.id, destination, amount: w.amount - w.fee };
}

export interface PayoutView {
  id: string;
  status: string;
  amount: string;
  fee: string;
  netAmount: string;
  signature: string | null;
}

export async function withdrawalsOf(account: DevAccount): Promise<PayoutView[]> {
  return ((await (await getWithKey('/v1/accounts/me/withdrawals', account.apiKey)).json()) as { payouts: PayoutView[] }).payouts;
}

export interface BatchRow {
  id: string;
  state: string;
  attempt: number;
  signature: string | null;
  failure_reason: string | null;
  wire_transaction: string | null;
  uses_lookup_table: number;
  lookup_table: string | null;
  payouts: number;
}

/** The batches that ever held these payouts (a payout moves to a new batch after a failed one). */
export async function batchesOf(payoutIds: string[]): Promise<BatchRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT b.id, b.state, b.attempt, b.signature, b.failure_reason, b.wire_transaction, b.uses_lookup_table, b.lookup_table, count(p.id) AS payouts
       FROM payout_batches b JOIN payouts p ON p.batch_id = b.id
      WHERE p.id IN (SELECT value FROM json_each(?1))
      GROUP BY b.id ORDER BY payouts DESC, b.created_at`,
  )
    .bind(JSON.stringify(payoutIds))
    .all<BatchRow>();
  return results;
}

export async function payoutRow(
  id: string,
): Promise<{ status: string; failures: number; batch_id: string | null; fee: number; amount: number }> {
  const row = await env.DB.prepare('SELECT status, failures, batch_id, fee, amount FROM payouts WHERE id = ?').bind(id).first<{
    status: string;
    failures: number;
    batch_id: string | null;
    fee: number;
    amount: number;
  }>();
  if (!row) throw new Error(`no payout ${id}`);
  return row;
}

/** Every signature ever signed for the batches of these payouts (the audit table keeps them all). */
export async function signaturesSignedFor(payoutIds: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT a.signature FROM payout_batch_attempts a
      WHERE a.batch_id IN (SELECT batch_id FROM payouts WHERE id IN (SELECT value FROM json_each(?1)))
      ORDER BY a.created_at, a.attempt`,
  )
    .bind(JSON.stringify(payoutIds))
    .all<{ signature: string }>();
  return results.map((r) => r.signature);
}

/** The recipient holds exactly `expected` and exactly one successful transaction of `signatures` touched its token account. */
export async function expectPaidOnceOnChain(destination: string, expected: bigint, signatures: string[]): Promise<void> {
  expect(await tokenBalance(destination), destination).toBe(expected);
  const touching = (await transactionsOf(await tokenAccountOf(destination))).filter(
    (t) => signatures.includes(t.signature) && t.err === null,
  );
  expect(touching, destination).toHaveLength(1);
}

/** The ledger transactions posted for one payout, by kind. */
export async function ledgerTransactionsOf(payoutId: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT kind FROM ledger_transactions WHERE ref = ? ORDER BY created_at')
    .bind(`payout:${payoutId}`)
    .all<{ kind: string }>();
  return results.map((r) => r.kind);
}
