import { address, type Address } from '@solana/kit';
import type { PayoutRequest } from './payout-plan.ts';
import type { SolanaRpc } from './rpc-client.ts';
import { associatedTokenAccount } from './transfer-request.ts';

/** getMultipleAccounts takes at most 100 addresses per call. */
const ACCOUNTS_PER_CALL = 100;

/**
 * Sets `createRecipientAta` on payouts whose recipient has no token account for our mint yet,
 * before planning (a creation costs 42 bytes, so it changes how many fit in one transaction).
 * If an account appears or disappears between this check and the send, nothing breaks: creation
 * is idempotent, and a transfer to a closed account fails the whole batch on chain, atomically.
 */
export async function markMissingRecipientAtas(rpc: SolanaRpc, mint: Address, payouts: readonly PayoutRequest[]): Promise<PayoutRequest[]> {
  const owners = [...new Set(payouts.map((p) => p.recipientOwner))];
  const missing = new Set<string>();
  for (let i = 0; i < owners.length; i += ACCOUNTS_PER_CALL) {
    const chunk = owners.slice(i, i + ACCOUNTS_PER_CALL);
    const atas = await Promise.all(chunk.map((owner) => associatedTokenAccount(address(owner), mint)));
    const accounts = await rpc.getMultipleAccounts(atas);
    accounts.forEach((account, j) => {
      if (account === null) missing.add(chunk[j]!);
    });
  }
  return payouts.map((p) => ({ ...p, createRecipientAta: missing.has(p.recipientOwner) }));
}
