import * as z from 'zod';
import { PAYOUT_STATUSES } from '../../db/schema/ledger.ts';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of withdrawals (`payoutView`, the withdrawal quote), for the OpenAPI document
// and the typed client; checked by test/worker/openapi.test.ts.

export const payoutViewSchema = z.object({
  id: z.string(),
  amount: amountText.describe('What left the balance.'),
  fee: amountText.describe("Kept to create the recipient's token account (its rent); 0 when it had one."),
  netAmount: amountText.describe('What the recipient receives on chain.'),
  destination: z.string(),
  status: z.enum(PAYOUT_STATUSES),
  transactionId: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const withdrawalCreatedSchema = z.object({ payout: payoutViewSchema });

export const withdrawalListSchema = z.object({
  payouts: z.array(
    payoutViewSchema.extend({ signature: z.string().nullable().describe('The Solana transaction that paid it, once final.') }),
  ),
});

export const withdrawalQuoteSchema = z.object({
  amount: amountText,
  fee: amountText,
  netAmount: amountText,
  minimum: amountText.describe('The smallest withdrawal accepted.'),
  destination: z.string(),
  tokenAccount: z
    .object({ address: z.string(), exists: z.boolean() })
    .describe("The destination's token account for the mint; the fee pays its rent when it does not exist."),
});
