import type { z } from 'zod';

// One entry of the route catalogue (catalogue.ts): what the OpenAPI document says about a route.
// Inputs are the very schema objects the route validates with; responses are the domain's
// response schemas. Errors every route of a kind can answer (bad JSON, a missing API key, the
// rate limit…) are added by the document builder (common-errors.ts); `errors` lists the rest.

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** `apiKey`: Authorization: Bearer <api key> (requireAccount). */
export type Auth = 'none' | 'apiKey';

export interface ErrorCase {
  status: number;
  code: string;
  /** When it is answered, in a few words. */
  when: string;
}

export interface SuccessCase {
  status: number;
  description: string;
  schema: z.ZodType;
}

export interface Operation {
  operationId: string;
  method: Method;
  /** OpenAPI form, `{name}` for a parameter: /v1/jobs/{id}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** Path parameters, one key per `{name}`. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out entirely (POST /v1/accounts/me/deposits). */
  bodyOptional?: boolean;
  /** Takes an optional Idempotency-Key header; a repeat answers 200 with Idempotent-Replayed: true. */
  idempotent?: boolean;
  responses: SuccessCase[];
  errors: ErrorCase[];
  /** Content besides JSON (GET / serves the explorer page to browsers). */
  alsoHtml?: boolean;
}
