import type { ErrorCase, Operation } from './operation.ts';

// Errors that follow from what kind of route an operation is, rather than from what it does:
// the body reader (workers/http/body.ts), validation, requireAccount, the rate limiter
// (workers/limits) and app.onError. Listed once here so no catalogue entry can forget them.

export function commonErrors(op: Operation): ErrorCase[] {
  const errors: ErrorCase[] = [];
  const validates = op.body !== undefined || op.query !== undefined || op.params !== undefined;
  if (validates) errors.push({ status: 400, code: 'invalid_request', when: 'an input fails its schema; the message names the field' });
  if (op.body !== undefined) {
    errors.push({ status: 400, code: 'malformed_json', when: 'the body is not JSON' });
    errors.push({ status: 413, code: 'payload_too_large', when: 'the body is over 64 KiB' });
  }
  if (op.idempotent) {
    errors.push({
      status: 400,
      code: 'invalid_idempotency_key',
      when: 'the Idempotency-Key header is not 1-128 printable ASCII characters',
    });
    errors.push({ status: 409, code: 'idempotency_conflict', when: 'the Idempotency-Key was used before with another request' });
  }
  if (op.auth === 'apiKey') errors.push({ status: 401, code: 'unauthorized', when: 'no API key, or one that is unknown or revoked' });
  errors.push({ status: 429, code: 'rate_limited', when: 'over the rate limit; Retry-After says when to retry' });
  errors.push({ status: 500, code: 'internal_error', when: 'a fault on our side; the request changed nothing' });
  return errors;
}
