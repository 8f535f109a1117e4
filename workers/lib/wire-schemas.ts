import * as z from 'zod';

// Pieces of the wire shapes that every domain's response schemas share (PROTOCOL.md "Amounts"):
// amounts are decimal strings in whole tokens, times are ISO 8601 strings in UTC.

export const amountText = z
  .string()
  .regex(/^-?[0-9]+(\.[0-9]+)?$/)
  .describe('A token amount: a decimal string in whole tokens, e.g. "1.250000".');

export const isoTime = z.iso.datetime().describe('A time in UTC, ISO 8601.');

/** The protocol's error body (PROTOCOL.md "Errors"), what `app.onError` renders. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable, snake_case; what a program checks.'),
    message: z.string().describe('One sentence for a person.'),
  }),
});
