import type { Context } from 'hono';
import { badRequest } from '../errors.ts';
import { randomId } from '../lib/ids.ts';

// HTTP side of idempotency. The ledger stores one key per transaction; keys from clients are
// scoped (route and, when signed in, account) so one client's key can never replay another's
// transaction or an internal one (`deposit:<signature>`).

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const HEADER_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * The ledger idempotency key for this request: `<scope>:<Idempotency-Key>`, or a fresh unique
 * key when the client sent none (then a retry is a new request, as without the header).
 */
export function requestIdempotencyKey(c: Context, scope: string): { key: string; fromClient: boolean } {
  const header = c.req.header(IDEMPOTENCY_HEADER);
  if (header === undefined) return { key: `${scope}:auto:${randomId('req')}`, fromClient: false };
  if (!HEADER_KEY_PATTERN.test(header)) {
    throw badRequest('invalid_idempotency_key', 'The Idempotency-Key header must be 1–128 printable ASCII characters without spaces.');
  }
  return { key: `${scope}:${header}`, fromClient: true };
}
