import { assertCluster } from './cluster.ts';
import type { SolanaRpc } from './rpc-client.ts';
import type { Commitment, RpcTransaction, TokenBalance } from './rpc-schemas.ts';

export {
  associatedTokenAccount,
  buildTransferRequestUrl,
  depositInstructions,
  newReferenceKey,
  treasuryTokenAccount,
} from './transfer-request.ts';
export type { DepositInstructions, TransferRequest } from './transfer-request.ts';

// Deciding whether a transaction is a deposit is pure policy and lives here; fetching is
// `scanReference`, crediting (once per signature, under a unique constraint) is the ledger's.
// The amount is never read from instructions: it is the change of OUR treasury token account's
// balance in OUR mint, from the runtime's own pre/post token balances. So a look-alike mint, a
// transfer to any other account, an inner-instruction trick or a failed transaction credits 0.

export interface DepositExpectation {
  mint: string;
  /** The treasury's associated token account for `mint` (transfer-request.ts `treasuryTokenAccount`). */
  treasuryTokenAccount: string;
  reference: string;
  decimals: number;
  /** When the request named an amount: less than this is not credited (`short_amount`). */
  expectedAmount?: bigint;
}

export interface FetchedTransaction {
  signature: string;
  /** The commitment the transaction was read at; only `finalized` is ever credited. */
  commitment: Commitment | null;
  /** getTransaction (encoding `json`) result; null when the node does not have it. */
  transaction: RpcTransaction | null;
}

export type DepositRejection =
  | 'not_found' // the node returned no transaction (or no meta) for the signature: look again later
  | 'not_finalized' // seen below `finalized`: look again later
  | 'failed_tx' // landed with an error: no tokens moved
  | 'reference_missing' // the transaction does not carry the reference it was listed under
  | 'wrong_mint' // tokens of another mint moved (a look-alike) and none of ours arrived
  | 'wrong_destination' // our mint moved, but not into our treasury token account
  | 'wrong_decimals' // our token account reports other decimals than configured: misconfiguration
  | 'short_amount' // less than the requested amount arrived; recorded for an operator, not credited
  | 'no_transfer'; // nothing arrived at the treasury token account

export type DepositDecision =
  | {
      ok: true;
      signature: string;
      /** Base units of our mint that arrived at the treasury token account. */
      amount: bigint;
      /** The fee payer (first signer). */
      payer: string;
      /** Owner of the token account our mint left, when exactly one did (for refunds). */
      sourceOwner: string | null;
      slot: number;
      blockTime: number | null;
    }
  | { ok: false; signature: string; reason: DepositRejection; detail: string; amount?: bigint; slot?: number };

const RETRYABLE: ReadonlySet<DepositRejection> = new Set(['not_found', 'not_finalized']);

/**
 * A final decision can be stored against the signature for good ("credited" or "ignored");
 * a retryable one must not be, or the deposit would never be credited once it finalizes.
 */
export function isFinalDecision(decision: DepositDecision): boolean {
  return decision.ok || !RETRYABLE.has(decision.reason);
}

export function checkDeposit(fetched: FetchedTransaction, expected: DepositExpectation): DepositDecision {
  const { signature } = fetched;
  const reject = (reason: DepositRejection, detail: string, extra: { amount?: bigint; slot?: number } = {}): DepositDecision => ({
    ok: false,
    signature,
    reason,
    detail,
    ...extra,
  });
  const tx = fetched.transaction;
  if (!tx?.meta) return reject('not_found', 'the RPC node has no transaction with status for this signature');
  if (tx.transaction.signatures[0] !== signature) return reject('not_found', 'the RPC node returned another transaction');
  if (fetched.commitment !== 'finalized') {
    return reject('not_finalized', `seen at ${fetched.commitment ?? 'no'} commitment`, { slot: tx.slot });
  }
  const slot = tx.slot;
  if (tx.meta.err !== null) return reject('failed_tx', `transaction failed: ${JSON.stringify(tx.meta.err)}`, { slot });

  const keys = [
    ...tx.transaction.message.accountKeys,
    ...(tx.meta.loadedAddresses?.writable ?? []),
    ...(tx.meta.loadedAddresses?.readonly ?? []),
  ];
  if (!keys.includes(expected.reference)) return reject('reference_missing', 'reference is not among the account keys', { slot });

  const changes = tokenBalanceChanges(tx.meta.preTokenBalances ?? [], tx.meta.postTokenBalances ?? [], keys);
  const ours = changes.find((c) => c.account === expected.treasuryTokenAccount);
  if (ours && ours.mint !== expected.mint) {
    return reject('wrong_mint', `treasury token account holds mint ${ours.mint}`, { slot });
  }
  if (ours && ours.decimals !== expected.decimals) {
    return reject('wrong_decimals', `mint reports ${ours.decimals} decimals, configured ${expected.decimals}`, { slot });
  }
  const amount = ours?.delta ?? 0n;
  if (amount <= 0n) {
    const elsewhere = changes.filter((c) => c.delta > 0n);
    if (elsewhere.some((c) => c.mint === expected.mint)) {
      return reject('wrong_destination', 'our mint arrived at another token account', { slot });
    }
    if (elsewhere.length > 0) return reject('wrong_mint', `only other mints moved (${elsewhere[0]!.mint})`, { slot });
    return reject('no_transfer', 'nothing arrived at the treasury token account', { slot });
  }
  if (expected.expectedAmount !== undefined && amount < expected.expectedAmount) {
    return reject('short_amount', `${amount} of ${expected.expectedAmount} base units arrived`, { amount, slot });
  }
  const sources = changes.filter((c) => c.mint === expected.mint && c.delta < 0n);
  return {
    ok: true,
    signature,
    amount,
    payer: keys[0]!,
    sourceOwner: sources.length === 1 ? (sources[0]!.owner ?? null) : null,
    slot,
    blockTime: tx.blockTime ?? null,
  };
}

interface TokenBalanceChange {
  account: string;
  mint: string;
  owner: string | undefined;
  decimals: number;
  delta: bigint;
}

/** post − pre per token account; an account created or closed in the transaction counts as 0 on the missing side. */
function tokenBalanceChanges(pre: TokenBalance[], post: TokenBalance[], keys: string[]): TokenBalanceChange[] {
  const byIndex = new Map<number, TokenBalanceChange>();
  const entry = (b: TokenBalance) => {
    let change = byIndex.get(b.accountIndex);
    if (!change) {
      change = { account: keys[b.accountIndex] ?? '', mint: b.mint, owner: b.owner, decimals: b.uiTokenAmount.decimals, delta: 0n };
      byIndex.set(b.accountIndex, change);
    }
    return change;
  };
  for (const b of pre) entry(b).delta -= b.uiTokenAmount.amount;
  for (const b of post) entry(b).delta += b.uiTokenAmount.amount;
  return [...byIndex.values()];
}

export interface ScanOptions {
  /** Expected genesis hash (config `genesisHash`); null skips the cluster check. */
  genesisHash: string | null;
  /**
   * Signatures already decided for good (credited or ignored): listed, but not fetched again. A
   * function is asked once with everything listed (so the caller can look up only those).
   */
  skip?: ReadonlySet<string> | ((listed: readonly string[]) => Promise<ReadonlySet<string>>);
  /**
   * Stop listing at this signature (exclusive). Only safe to advance to the newest signature of a
   * scan that came back `complete`, and only once every decision before it is final.
   */
  until?: string;
  /**
   * Start listing below this signature (exclusive) instead of at the newest: where an earlier
   * scan that was cut short stopped, so a long run of newer signatures cannot hide older ones.
   */
  before?: string;
  /** Upper bound on signatures listed in one pass, so a spammed reference cannot stall the cron. */
  maxSignatures?: number;
}

export interface ScanResult {
  /** Oldest first; one per signature not in `skip`. */
  decisions: DepositDecision[];
  /** False when `maxSignatures` cut the listing short: older signatures remain unlisted. */
  complete: boolean;
  /** Newest signature listed (the candidate for the next `until`). */
  newestSignature: string | null;
  /** Oldest signature listed (where the next scan continues when this one was cut short). */
  oldestSignature: string | null;
}

/**
 * Lists finalized transactions that carry `reference` and decides each, oldest first. Throws
 * WrongClusterError before reading anything when the RPC serves another cluster, and
 * SolanaRpcError when the node fails (the pass is simply retried; nothing was decided).
 */
export async function scanReference(
  rpc: SolanaRpc,
  reference: string,
  expected: Omit<DepositExpectation, 'reference'>,
  options: ScanOptions,
): Promise<ScanResult> {
  await assertCluster(rpc, options.genesisHash);
  const max = options.maxSignatures ?? 200;
  const signatures: string[] = [];
  let before = options.before;
  let complete = false;
  while (signatures.length < max) {
    const limit = Math.min(1000, max - signatures.length);
    const page = await rpc.getSignaturesForAddress(reference, { commitment: 'finalized', limit, before, until: options.until });
    signatures.push(...page.map((s) => s.signature));
    if (page.length < limit) {
      complete = true;
      break;
    }
    before = page[page.length - 1]!.signature;
  }
  const newestSignature = signatures[0] ?? null;
  const oldestSignature = signatures.at(-1) ?? null;
  const skip = typeof options.skip === 'function' ? await options.skip(signatures) : options.skip;
  const decisions: DepositDecision[] = [];
  // The node lists newest first; decide in chain order. Sequential on purpose: RPC rate limits.
  for (const signature of signatures.reverse()) {
    if (skip?.has(signature)) continue;
    const transaction = await rpc.getTransaction(signature, 'finalized');
    decisions.push(checkDeposit({ signature, commitment: 'finalized', transaction }, { ...expected, reference }));
  }
  return { decisions, complete, newestSignature, oldestSignature };
}
