import * as z from 'zod';
import { errorBodySchema } from '../lib/wire-schemas.ts';
import { catalogue } from './catalogue.ts';
import { commonErrors } from './common-errors.ts';
import type { ErrorCase, Operation } from './operation.ts';

// GET /openapi.json: OpenAPI 3.1 (whose schemas are JSON Schema 2020-12, what z.toJSONSchema
// writes) made from the route catalogue. Request schemas are written as the route accepts them
// (`io: 'input'`: defaults make a field optional), responses as the route sends them.

type Json = Record<string, unknown>;

export const OPENAPI_VERSION = '3.1.0';
/** PROTOCOL.md's version; a breaking change to the contract is a new one. */
export const API_VERSION = '1';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    // Responses may gain fields over time: clients must ignore what they do not know, so the
    // document does not promise that no other field appears.
    override: io === 'output' ? (ctx) => void delete (ctx.jsonSchema as Json).additionalProperties : undefined,
  }) as Json;
  return rest;
}

function parameters(op: Operation): Json[] {
  const out: Json[] = [];
  for (const [where, shape] of [
    ['path', op.params?.shape],
    ['query', op.query?.shape],
  ] as const) {
    for (const [name, field] of Object.entries(shape ?? {})) {
      const schema = field as z.ZodType;
      const { description, ...rest } = jsonSchema(schema, 'input');
      const required = where === 'path' || !schema.safeParse(undefined).success;
      out.push({ name, in: where, required, ...(description ? { description } : {}), schema: rest });
    }
  }
  if (op.idempotent) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a retry safe: the same key with the same request answers the first result (200, Idempotent-Replayed: true) and changes nothing.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
    });
  }
  return out;
}

/** Every error an operation can answer: its own and those of its kind, grouped by status. */
export function errorsOf(op: Operation): ErrorCase[] {
  const seen = new Set<string>();
  return [...op.errors, ...commonErrors(op)].filter((e) => {
    const key = `${e.status} ${e.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function responses(op: Operation): Json {
  const out: Json = {};
  for (const r of op.responses) {
    const content: Json = { 'application/json': { schema: jsonSchema(r.schema, 'output') } };
    if (op.alsoHtml) content['text/html'] = { schema: { type: 'string' } };
    out[String(r.status)] = { description: r.description, content };
  }
  const byStatus = new Map<number, ErrorCase[]>();
  for (const e of errorsOf(op)) byStatus.set(e.status, [...(byStatus.get(e.status) ?? []), e]);
  for (const [status, cases] of [...byStatus].sort(([a], [b]) => a - b)) {
    const codes = [...new Set(cases.map((c) => c.code))];
    out[String(status)] = {
      description: cases.map((c) => `\`${c.code}\`: ${c.when}`).join('; '),
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Error' },
              { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } },
            ],
          },
        },
      },
    };
  }
  return out;
}

function operationObject(op: Operation): Json {
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: op.auth === 'apiKey' ? [{ apiKey: [] }] : [],
    parameters: parameters(op),
    ...(op.body
      ? { requestBody: { required: !op.bodyOptional, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } }
      : {}),
    responses: responses(op),
  };
}

export function buildOpenApiDocument(operations: Operation[] = catalogue): Json {
  const paths: Record<string, Json> = {};
  for (const op of operations) {
    paths[op.path] = { ...paths[op.path], [op.method]: operationObject(op) };
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'gridplane API',
      version: API_VERSION,
      description:
        'Control plane of a community GPU network: quotes, jobs, accounts, deposits and withdrawals, staking and governance. ' +
        'Amounts are decimal strings in whole tokens; errors are { "error": { "code", "message" } }. ' +
        'Signed agent routes, admin and development routes are described in PROTOCOL.md and workers/README.md instead.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from signing in with a wallet (POST /v1/auth/siws/verify).' },
      },
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
    },
  };
}

let cached: Json | undefined;

/** Built once per isolate: the catalogue does not change while it runs. */
export const openApiDocument = (): Json => (cached ??= buildOpenApiDocument());
