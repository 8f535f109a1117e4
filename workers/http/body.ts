import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError, badRequest } from '../errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;

/** Reads the raw body, refusing anything over the limit before and after reading it. */
export async function readRawBody(c: Context, maxBytes = MAX_BODY_BYTES): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

const tooLarge = (maxBytes: number) => new AppError(413, 'payload_too_large', `The request body is larger than ${maxBytes / 1024} KiB.`);

export function parseJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw badRequest('malformed_json', 'The request body must be JSON.');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw badRequest('malformed_json', 'The request body is not valid JSON.');
  }
}

/** Validates with the given schema and turns the first problem into one readable sentence. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest('invalid_request', describeIssue(result.error.issues));
}

/** The first problem as "field: reason" (`body: …` when it is about the whole input). */
export function describeIssue(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (!issue) return 'body: invalid input';
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'body';
  return `${where}: ${issue.message}`;
}

function formatPath(path: PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`)).join('');
}
