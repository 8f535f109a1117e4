import { describe, expect, it } from 'vitest';
import { api, errorOf } from './helpers/agent.ts';

// Routes moved from jsonBody (workers/http/body.ts) to the zod-validator middleware with
// `anyContentType` (workers/http/validator.ts) answer exactly as before, whatever Content-Type
// the body comes with: the same status, code and sentence for a schema failure, malformed or
// empty JSON, and a body over 64 KiB. POST /v1/auth/siws/challenge needs no key. And the routes
// that checked a path parameter or their environment before the body, or read a query with
// queryParams, keep which error comes first and what a repeated query key means.

const PATH = '/v1/auth/siws/challenge';
const post = (body: string, type?: string) =>
  api(PATH, { method: 'POST', body, headers: type === undefined ? {} : { 'content-type': type } });

describe('validation at the boundary keeps jsonBody’s answers', () => {
  const cases: [string, string, { status: number; code: string; message: RegExp }][] = [
    ['a schema failure', JSON.stringify({ address: 'not-a-wallet' }), { status: 400, code: 'invalid_request', message: /^address: / }],
    ['an unknown field', JSON.stringify({ address: 'x', extra: 1 }), { status: 400, code: 'invalid_request', message: /: / }],
    ['malformed JSON', '{"address":', { status: 400, code: 'malformed_json', message: /^The request body is not valid JSON\.$/ }],
    ['an empty body', '', { status: 400, code: 'malformed_json', message: /^The request body must be JSON\.$/ }],
    ['a body over 64 KiB', JSON.stringify({ address: 'x'.repeat(70_000) }), { status: 413, code: 'payload_too_large', message: /64 KiB/ }],
  ];

  for (const [what, body, expected] of cases) {
    it(`${what}: the same answer with a JSON, a text or the runtime's default Content-Type`, async () => {
      const answers = [
        await errorOf(await post(body, 'application/json')),
        await errorOf(await post(body, 'text/plain')),
        await errorOf(await post(body)),
      ];
      expect(answers[0]).toMatchObject({ status: expected.status, code: expected.code });
      expect(answers[0]!.message).toMatch(expected.message);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });
  }

  it('a valid body is accepted whatever its Content-Type', async () => {
    const address = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';
    for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
      const res = await post(JSON.stringify({ address }), type);
      expect(res.status, type).toBe(201);
      expect(((await res.json()) as { message: string }).message).toContain(address);
    }
  });
});

describe('the order and the answers of the routes that validated by hand', () => {
  const admin = { authorization: 'Bearer test-admin-token-0123456789' };
  const send = (method: string, path: string, body: string) => api(path, { method, body, headers: admin });

  for (const [method, route, good, bad] of [
    ['PUT', (id: string) => `/v1/admin/probes/${id}`, 'NRT', 'no%20spaces'],
    ['POST', (id: string) => `/v1/admin/nodes/${id}/suspend`, '11111111111111111111111111111111', 'not-base58-0OIl'],
  ] as const) {
    it(`${method} ${route(':id')}: the path parameter before the body, answered \`body: …\` as before`, async () => {
      const both = await errorOf(await send(method, route(bad), '{'));
      expect(both).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/^body: must be /) });
      expect(await errorOf(await send(method, route(bad), JSON.stringify({ lat: 1, lon: 2, reason: 'x' })))).toEqual(both);
      expect(await errorOf(await send(method, route(good), '{'))).toMatchObject({ status: 400, code: 'malformed_json' });
    });
  }

  it('a query key given twice counts with its first value', async () => {
    expect((await api('/v1/staking/slashes?limit=2&limit=oops')).status).toBe(200);
    expect(await errorOf(await api('/v1/staking/slashes?limit=oops&limit=2'))).toMatchObject({
      status: 400,
      code: 'invalid_request',
      message: expect.stringMatching(/^limit: /),
    });
  });

  it('the faucet outside development is not there, whatever the body', async () => {
    expect(await errorOf(await api('/v1/dev/faucet', { method: 'POST', body: '{' }))).toMatchObject({ status: 404, code: 'not_found' });
  });
});
