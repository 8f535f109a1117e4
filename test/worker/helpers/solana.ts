import { env, exports } from 'cloudflare:workers';
import { postJson } from './wallet.ts';

// The worker suite's Solana cluster (test/worker/setup/solana-rpc.ts), driven over its HTTP
// control endpoint: wallets, Solana Pay payments and failure switches all act on the litesvm
// chain the Worker reads through SOLANA_RPC_URL.

// Inside the vitest pool, @solana/kit resolves to its browser build (wrangler bundles its workerd
// build), and the browser build refuses to sign unless `isSecureContext` is true. workerd has
// WebCrypto's Ed25519 but does not define the flag; the files that import this helper set it.
(globalThis as { isSecureContext?: boolean }).isSecureContext ??= true;

export async function chainControl<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${env.SOLANA_RPC_URL}/__control`, { method: 'POST', body: JSON.stringify({ op, ...args }) });
  const body = (await res.json()) as { result?: T; error?: string };
  if (!res.ok) throw new Error(`chain control ${op}: ${body.error}`);
  return body.result as T;
}

export interface ChainWorld {
  mint: string;
  lookAlikeMint: string;
  treasury: string;
  treasuryTokenAccount: string;
}

export const chainWorld = () => chainControl<ChainWorld>('world');

/** A funded wallet holding `tokens` base units of our mint (and optionally of the look-alike). */
export async function newChainWallet(opts: { tokens?: bigint; lookAlikeTokens?: bigint; tokenAccount?: boolean } = {}): Promise<string> {
  const { address } = await chainControl<{ address: string }>('wallet', {
    tokens: opts.tokens?.toString(),
    lookAlikeTokens: opts.lookAlikeTokens?.toString(),
    tokenAccount: opts.tokenAccount,
  });
  return address;
}

export interface Payment {
  signature: string;
  landed: boolean;
  err: unknown;
}

/** `references`: several reference keys in one transaction (the destination token account must exist). */
export function pay(
  from: string,
  amount: bigint,
  opts: { reference?: string; references?: string[]; to?: string; mint?: 'ours' | 'lookAlike' } = {},
): Promise<Payment> {
  return chainControl<Payment>('pay', { from, amount: amount.toString(), ...opts });
}

export const tokenAccountOf = (owner: string) => chainControl<string>('tokenAccount', { owner });
export const tokenBalance = async (owner: string) => BigInt(await chainControl<string>('tokenBalance', { owner }));

export interface ChainTransaction {
  signature: string;
  slot: number;
  err: unknown;
  commitment: string;
}

/** Landed transactions that touch `address`, oldest first. */
export const transactionsOf = (address: string) => chainControl<ChainTransaction[]>('transactionsOf', { address });
/** How many times a transaction with this signature reached sendTransaction. */
export const sendCount = (signature: string) => chainControl<number>('sendCount', { signature });

/** The Worker's scheduled handler, as the cron trigger fires it. */
export function runCron(scheduledTime = Date.now()): Promise<void> {
  return (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
    cron: '* * * * *',
    scheduledTime,
  });
}

export interface DevAccount {
  accountId: string;
  apiKey: string;
  wallet: string;
}

export async function devAccount(): Promise<DevAccount> {
  const res = await postJson('/v1/dev/accounts', {});
  if (res.status !== 201) throw new Error(`dev account: ${res.status}`);
  return (await res.json()) as DevAccount;
}

export const authed = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
