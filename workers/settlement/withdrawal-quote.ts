import { address } from '@solana/kit';
import { badRequest } from '../errors.ts';
import { formatAmount } from '../lib/amounts.ts';
import type { Settlement } from './settlement-env.ts';
import { associatedTokenAccount } from './transfer-request.ts';
import { upstreamError } from './settlement-env.ts';

// What a withdrawal costs, decided before the person confirms and shown to them: the quote route
// answers it, the withdrawal route charges exactly it. Two rules, both because payouts spend the
// treasury's SOL, which the ledger does not hold:
// - a minimum (WITHDRAWAL_MIN): each payout is a share of a transaction fee, so one balance must
//   not become millions of payouts;
// - a destination without a token account for our mint pays its rent (WITHDRAWAL_ACCOUNT_FEE):
//   the payout creates the account and the treasury pays ~0.00204 SOL for it. The fee is kept
//   from the amount (the recipient receives `amount − fee`) and becomes fee income when paid.

export interface WithdrawalTerms {
  /** Base units. */
  minimum: number;
  /** Base units charged when the destination has no token account. */
  accountFee: number;
}

export interface WithdrawalPrice {
  fee: number;
  /** What arrives: amount − fee. */
  net: number;
}

/** Pure: the fee and what arrives, or a 400 that says what to change. */
export function priceWithdrawal(amount: number, hasTokenAccount: boolean, terms: WithdrawalTerms, decimals: number): WithdrawalPrice {
  if (amount < terms.minimum) {
    throw badRequest('amount_below_minimum', `amount: the smallest withdrawal is ${formatAmount(terms.minimum, decimals)} tokens.`);
  }
  const fee = hasTokenAccount ? 0 : terms.accountFee;
  if (amount <= fee) {
    throw badRequest(
      'amount_below_fee',
      `amount: the destination has no token account for this token; creating it costs ${formatAmount(fee, decimals)} tokens, so withdraw more than that.`,
    );
  }
  return { fee, net: amount - fee };
}

export interface WithdrawalQuote extends WithdrawalPrice {
  amount: number;
  destination: string;
  tokenAccount: { address: string; exists: boolean };
}

/** Looks the destination's token account up on chain and prices the withdrawal. RPC failures → 502. */
export async function quoteWithdrawal(s: Settlement, amount: number, destination: string): Promise<WithdrawalQuote> {
  const tokenAccount = await associatedTokenAccount(address(destination), s.config.mint);
  let exists: boolean;
  try {
    const [account] = await s.rpc.getMultipleAccounts([tokenAccount], 'confirmed');
    exists = account !== null && account !== undefined;
  } catch (error) {
    throw upstreamError(error);
  }
  const price = priceWithdrawal(amount, exists, s.config.withdrawals, s.config.decimals);
  return { amount, destination, tokenAccount: { address: tokenAccount, exists }, ...price };
}

export function quoteView(q: WithdrawalQuote, terms: WithdrawalTerms, decimals: number) {
  return {
    amount: formatAmount(q.amount, decimals),
    fee: formatAmount(q.fee, decimals),
    netAmount: formatAmount(q.net, decimals),
    minimum: formatAmount(terms.minimum, decimals),
    destination: q.destination,
    tokenAccount: q.tokenAccount,
  };
}
