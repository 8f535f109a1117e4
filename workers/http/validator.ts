import { zValidator } from '@hono/zod-validator';
import type { Context } from 'hono';
import type * as z from 'zod';
import { AppError, badRequest } from '../errors.ts';
import { describeIssue, parseJsonBytes, readRawBody, validate } from './body.ts';

// Route-boundary validation with @hono/zod-validator, answering what the routes answered when they
// validated by hand with body.ts: 400 invalid_request "field: reason" for a schema failure, 400
// malformed_json, 413 payload_too_large over 64 KiB. Handlers read the parsed input with
// c.req.valid(target).

type Issues = readonly { path: PropertyKey[]; message: string }[];
type HookResult = { success: true } | { success: false; error: { issues: Issues } };

/** The validator's hook: a failure becomes the protocol's error body (app.onError renders it). */
function hook(result: HookResult): void {
  if (!result.success) throw badRequest('invalid_request', describeIssue(result.error.issues));
}

/** As `hook`, without the parameter's name: `body: reason`, what `validate(schema, c.req.param(name))` said. */
function unnamedHook(result: HookResult): void {
  if (!result.success)
    throw badRequest('invalid_request', describeIssue(result.error.issues.map((i) => ({ ...i, path: i.path.slice(1) }))));
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
   * Read the body as JSON whatever its Content-Type, as the routes that read it by hand always
   * did (`jsonBody`, now gone): their clients (`curl -d` sends a form type) must keep working. New
   * routes leave it off and answer 415 to a body that is not labelled JSON.
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

export interface QueryInputOptions {
  /**
   * A key given more than once counts with its first value, as `c.req.query()` reads it: for the
   * routes that validated the query by hand (`queryParams`, now gone), whose answers stay the same.
   * Without it the validator sees such a key as an array, which a string field refuses.
   */
  firstValue?: boolean;
}

const firstValues = (query: Record<string, string | string[]>) =>
  Object.fromEntries(Object.entries(query).map(([key, value]) => [key, Array.isArray(value) ? value[0] : value]));

/** Query parameters validated by `schema`; in the handler: `c.req.valid('query')`. */
export function queryInput<S extends z.ZodType>(schema: S, options: QueryInputOptions = {}) {
  if (!options.firstValue) return zValidator('query', schema, hook);
  // The library types the result by a conditional on S that a generic S cannot resolve; it is S's own safeParse.
  return zValidator('query', schema, hook, { validationFunction: (s, query) => s.safeParseAsync(firstValues(query)) as never });
}

export interface ParamInputOptions {
  /**
   * Report a failure without the parameter's name (`body: reason`), as the routes that validated
   * a path parameter by hand (`validate(schema, c.req.param(name))`) answered, and still do.
   * With it, the route checks its path before its body, as those routes did, and keeps its answer
   * to a request with both wrong.
   */
  unnamed?: boolean;
}

/** Path parameters validated by `schema`; in the handler: `c.req.valid('param')`. */
export const paramInput = <S extends z.ZodType>(schema: S, options: ParamInputOptions = {}) =>
  zValidator('param', schema, options.unnamed ? unnamedHook : hook);
