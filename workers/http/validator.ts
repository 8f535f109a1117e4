import { zValidator } from '@hono/zod-validator';
import type { Context } from 'hono';
import type * as z from 'zod';
import { AppError, badRequest } from '../errors.ts';
import { describeIssue, parseJsonBytes, readRawBody, validate } from './body.ts';

// Route-boundary validation with @hono/zod-validator, answering exactly what jsonBody/queryParams
// (body.ts) answer: 400 invalid_request "field: reason" for a schema failure, 400 malformed_json,
// 413 payload_too_large over 64 KiB. Handlers read the parsed input with c.req.valid(target).

/** The validator's hook: a failure becomes the protocol's error body (app.onError renders it). */
function hook(
  result: { success: true } | { success: false; error: { issues: readonly { path: PropertyKey[]; message: string }[] } },
): void {
  if (!result.success) throw badRequest('invalid_request', describeIssue(result.error.issues));
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Size and JSON syntax before the schema, whatever the validator would do with them: the
 * body is read once, bounded (hono caches it, so the validator's own read costs nothing more),
 * and a body that is not sent as JSON is refused by name, where the validator alone would
 * validate `{}` and blame a missing field. Returns the parsed body and whether it came labelled
 * as JSON.
 */
async function checkJsonBody(c: Context, anyContentType: boolean): Promise<{ value: unknown; labelled: boolean }> {
  const bytes = await readRawBody(c);
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
  const labelled = JSON_TYPE.test(type);
  if (!anyContentType && bytes.byteLength > 0 && !labelled) {
    throw new AppError(415, 'unsupported_media_type', 'Send the body as JSON, with Content-Type: application/json.');
  }
  return { value: parseJsonBytes(bytes), labelled };
}

export interface JsonInputOptions {
  /**
   * Read the body as JSON whatever its Content-Type, as `jsonBody` (body.ts) always did: for the
   * routes that had it, whose clients (`curl -d` sends a form type) must keep working. New routes
   * leave it off and answer 415 to a body that is not labelled JSON.
   */
  anyContentType?: boolean;
}

/** A JSON body validated by `schema`; in the handler: `c.req.valid('json')`. */
export function jsonInput<S extends z.ZodType>(schema: S, options: JsonInputOptions = {}) {
  const inner = zValidator('json', schema, hook);
  const outer: typeof inner = async (c, next) => {
    const body = await checkJsonBody(c, options.anyContentType === true);
    if (body.labelled) return inner(c, next);
    // Not labelled JSON (allowed by anyContentType): the validator would see `{}`, so the same
    // schema and error sentence are applied here to what the body holds.
    c.req.addValidatedData('json', validate(schema, body.value) as object);
    await next();
  };
  return outer;
}

/** Query parameters validated by `schema`; in the handler: `c.req.valid('query')`. */
export const queryInput = <S extends z.ZodType>(schema: S) => zValidator('query', schema, hook);

/** Path parameters validated by `schema`; in the handler: `c.req.valid('param')`. */
export const paramInput = <S extends z.ZodType>(schema: S) => zValidator('param', schema, hook);
