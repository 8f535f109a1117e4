import * as z from 'zod';
import { decodePublicKey } from '../../protocol/base58.ts';

// Inputs of sign-in (siws.app.ts) and the account routes (accounts.app.ts). Pure: the OpenAPI
// catalogue and the typed client import them too.

export const challengeSchema = z.strictObject({
  address: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a base58 Solana address'),
  linkToken: z.string().max(100).optional(),
});

export const verifySchema = z.strictObject({
  message: z.string().min(1).max(4096),
  signature: z.string().min(1).max(200),
});

export const entriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'is not a cursor this API returned')
    .optional(),
});

export const destinationSchema = z.string().refine((s) => decodePublicKey(s) !== null, 'must be a base58 Solana address');

export const withdrawalSchema = z.strictObject({
  amount: z.string().max(40),
  /** The receiving wallet; the signed-in wallet when omitted. */
  destination: destinationSchema.optional(),
  /** The fee the person saw in the quote: a higher fee now (the token account was closed since) is refused. */
  maxFee: z.string().max(40).optional(),
});

export const quoteQuerySchema = z.strictObject({ amount: z.string().max(40), destination: destinationSchema.optional() });
