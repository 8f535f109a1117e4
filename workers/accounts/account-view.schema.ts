import * as z from 'zod';
import { TRANSACTION_KINDS } from '../../db/schema/ledger.ts';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of sign-in and the account routes (/v1/auth/siws, /v1/accounts/me…), for
// the OpenAPI document and the typed client; checked by test/worker/openapi.test.ts.

export const siwsChallengeResponseSchema = z.object({
  message: z.string().describe('The Sign-In With Solana message to sign with the wallet, exactly as given.'),
  nonce: z.string(),
  expiresAt: isoTime,
});

export const siwsVerifyResponseSchema = z.object({
  accountId: z.string(),
  wallet: z.string(),
  apiKey: z.string().describe('Shown once: send it as Authorization: Bearer <api key>.'),
  created: z.boolean().describe('True when this sign-in created the account.'),
  linked: z.object({ platform: z.string(), platformUserId: z.string() }).nullable(),
  revokedApiKeys: z
    .array(z.string())
    .describe('Prefixes of keys this sign-in revoked: the least recently used, past the cap on live keys.'),
});

export const meResponseSchema = z.object({
  id: z.string(),
  wallet: z.string(),
  createdAt: isoTime,
  balance: amountText,
  links: z.array(z.object({ platform: z.string(), platformUserId: z.string(), linkedAt: isoTime })),
});

export const balanceResponseSchema = z.object({
  accountId: z.string(),
  balance: amountText,
  baseUnits: z
    .string()
    .regex(/^[0-9]+$/)
    .describe('The same balance as an integer in base units.'),
});

export const entrySchema = z.object({
  id: z.string(),
  transactionId: z.string(),
  kind: z.enum(TRANSACTION_KINDS),
  amount: amountText.describe('Negative when it left the balance.'),
  balanceAfter: amountText,
  memo: z.string().nullable(),
  ref: z.string().nullable(),
  createdAt: isoTime,
});

export const entriesResponseSchema = z.object({
  entries: z.array(entrySchema).describe('Newest first.'),
  nextCursor: z.string().nullable(),
});

export const apiKeyViewSchema = z.object({
  prefix: z.string().describe("The key's first characters: enough to tell keys apart, never enough to use one."),
  origin: z.enum(['siws', 'dev']),
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable().describe('Recorded at most once an hour per key.'),
  current: z.boolean().describe('True for the key this request came with.'),
});

export const apiKeyListSchema = z.object({
  apiKeys: z.array(apiKeyViewSchema),
  limit: z.number().int().describe('The most live keys an account holds; past it, signing in revokes the least recently used.'),
});

export const apiKeyRevokedSchema = z.object({
  revoked: apiKeyViewSchema.omit({ current: true }).extend({ revokedAt: isoTime }),
  current: z.boolean().describe('True when the key this request came with was the one revoked: from now on it gets 401.'),
});
