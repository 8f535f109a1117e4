import * as z from 'zod';

// Inputs of /v1/accounts/me/deposits (deposits.app.ts). Pure: the OpenAPI catalogue and the
// typed client import them too.

export const newDepositSchema = z.strictObject({
  /** Whole tokens as a decimal string; less than this arriving under the reference is not credited. */
  amount: z.string().max(40).optional(),
});

export const referenceParam = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'is not a deposit reference');
