import { generateKeyPairSigner, getTransactionEncoder, signTransactionMessageWithSigners, type KeyPairSigner } from '@solana/kit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  estimatePayoutTxSize,
  MAX_TRANSACTION_BYTES,
  planPayoutBatches,
  payoutTransactionMessage,
  buildPayoutTransaction,
  type PayoutRequest,
} from '../../../workers/settlement/payouts.ts';

let treasury: KeyPairSigner;
let mint: KeyPairSigner;
let owners: string[];

beforeAll(async () => {
  treasury = await generateKeyPairSigner();
  mint = await generateKeyPairSigner();
  owners = await Promise.all(Array.from({ length: 60 }, async () => (await generateKeyPairSigner()).address));
});

const payout = (i: number, extra: Partial<PayoutRequest> = {}): PayoutRequest => ({
  id: `p${i}`,
  recipientOwner: owners[i]!,
  amount: 1_000n + BigInt(i),
  ...extra,
});
const blockhash = { blockhash: '4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi', lastValidBlockHeight: 500 };

async function actualSize(payouts: PayoutRequest[], priorityFeeMicroLamports?: bigint) {
  const message = await payoutTransactionMessage({
    treasury,
    mint: mint.address,
    decimals: 6,
    payouts,
    ...blockhash,
    priorityFeeMicroLamports,
  });
  return getTransactionEncoder().getSizeFromValue(await signTransactionMessageWithSigners(message));
}

describe('payout batch size', () => {
  it('is estimated to the byte for every mix of plain transfers, account creations, repeats and priority fees', async () => {
    const mixes: [PayoutRequest[], boolean][] = [
      [[payout(0)], false],
      [Array.from({ length: 20 }, (_, i) => payout(i)), false],
      [Array.from({ length: 10 }, (_, i) => payout(i, { createRecipientAta: true })), false],
      [Array.from({ length: 12 }, (_, i) => payout(i, { createRecipientAta: i % 3 === 0 })), true],
      [[payout(1), payout(1, { id: 'again', createRecipientAta: true }), payout(2)], true],
    ];
    for (const [payouts, priorityFee] of mixes) {
      expect(estimatePayoutTxSize(payouts, { priorityFee })).toBe(await actualSize(payouts, priorityFee ? 1_000n : undefined));
    }
  });

  it('refuses to sign a batch that does not fit in a packet', async () => {
    const payouts = Array.from({ length: 21 }, (_, i) => payout(i));
    expect(estimatePayoutTxSize(payouts)).toBeGreaterThan(MAX_TRANSACTION_BYTES);
    await expect(buildPayoutTransaction({ treasury, mint: mint.address, decimals: 6, payouts, ...blockhash })).rejects.toThrow(RangeError);
  });
});

describe('planPayoutBatches', () => {
  it('fills each legacy transaction to capacity, in queue order', () => {
    const plan = planPayoutBatches(
      Array.from({ length: 45 }, (_, i) => payout(i)),
      100,
    );
    expect(plan.batches.map((b) => b.length)).toEqual([20, 20, 5]);
    expect(plan.batches.flat().map((p) => p.id)).toEqual(Array.from({ length: 45 }, (_, i) => `p${i}`));
  });

  it('fits fewer when recipients need their token account created, or a priority fee is paid', () => {
    const creating = Array.from({ length: 25 }, (_, i) => payout(i, { createRecipientAta: true }));
    expect(planPayoutBatches(creating, 100).batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(planPayoutBatches(creating, 100, { priorityFee: true }).batches.map((b) => b.length)).toEqual([9, 9, 7]);
    const plain = Array.from({ length: 20 }, (_, i) => payout(i));
    expect(planPayoutBatches(plain, 100, { priorityFee: true }).batches.map((b) => b.length)).toEqual([19, 1]);
  });

  it('honours maxPerTx and rejects what can never be paid', () => {
    const plan = planPayoutBatches(
      [payout(0), { id: 'bad-owner', recipientOwner: 'not-an-address', amount: 1n }, payout(1, { amount: 0n }), payout(2), payout(3)],
      2,
    );
    expect(plan.batches.map((b) => b.map((p) => p.id))).toEqual([['p0', 'p2'], ['p3']]);
    expect(plan.rejected.map((r) => [r.payout.id, r.reason])).toEqual([
      ['bad-owner', 'invalid_recipient'],
      ['p1', 'invalid_amount'],
    ]);
    expect(() => planPayoutBatches([], 0)).toThrow(RangeError);
  });
});
