import { describe, expect, it } from 'vitest';
import { api, errorOf } from './helpers/agent.ts';

// Routes moved from jsonBody (workers/http/body.ts) to the zod-validator middleware with
// `anyContentType` (workers/http/validator.ts) answer exactly as before, whatever Content-Type
// the body comes with: the same status, code and sentence for a schema failure, malformed or
// empty JSON, and a body over 64 KiB. POST /v1/auth/siws/challenge needs no key.

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
