import * as z from 'zod';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of /v1/accounts/me/deposits (deposits.app.ts), for the OpenAPI document and
// the typed client; checked by test/worker/openapi.test.ts.

export const depositReferenceSchema = z.object({
  reference: z.string().describe('The Solana Pay reference: a payment carrying it is credited to this account.'),
  amount: amountText.nullable().describe('The amount asked for; null lets the payer choose.'),
  status: z.enum(['open', 'used', 'expired']),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
  scannedAt: isoTime.nullable(),
});

export const depositSchema = z.object({
  signature: z.string(),
  reference: z.string().nullable(),
  status: z.enum(['credited', 'ignored']),
  amount: amountText.nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  slot: z.number().int().nullable(),
  transactionId: z.string().nullable(),
  decidedAt: isoTime,
});

export const depositRequestSchema = depositReferenceSchema.extend({
  recipient: z.string().describe('The treasury wallet.'),
  tokenAccount: z.string().describe("The treasury's token account, where the payment must arrive."),
  mint: z.string(),
  decimals: z.number().int(),
  url: z.string().describe('The Solana Pay transfer request (solana:…) for a wallet or a QR code.'),
});

export const depositListSchema = z.object({ references: z.array(depositReferenceSchema), deposits: z.array(depositSchema) });

export const depositCheckSchema = depositReferenceSchema.extend({
  creditedNow: amountText.describe('What this check credited; 0 when an earlier or concurrent check did.'),
  decisions: z.array(
    z.object({
      signature: z.string(),
      outcome: z.enum(['credited', 'already_decided', 'ignored', 'pending']),
      reason: z.string().nullable(),
      amount: amountText.nullable(),
    }),
  ),
  deposits: z.array(depositSchema),
});
