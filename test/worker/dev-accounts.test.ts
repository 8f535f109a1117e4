import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { errorOf } from './helpers/agent.ts';
import { BASE, getWithKey, postJson } from './helpers/wallet.ts';

// POST /v1/dev/accounts takes no input: it makes an account with a fresh wallet and names that
// wallet in the answer, which is what a node's --owner must be for its operator to stake. A field
// it does not take is refused (400), not silently ignored: a newcomer who sent their own wallet
// once got an account for another one and ended, much later, at 409 no_capacity.

const accountCount = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM accounts WHERE id LIKE 'acc_%'").first<{ n: number }>())!.n;

const post = (init: RequestInit) => exports.default.fetch(new Request(`${BASE}/v1/dev/accounts`, { method: 'POST', ...init }));

describe('POST /v1/dev/accounts', () => {
  it('creates an account for a fresh wallet, with no body or an empty object', async () => {
    for (const res of [await post({}), await postJson('/v1/dev/accounts', {})]) {
      expect(res.status).toBe(201);
      const created = (await res.json()) as { accountId: string; apiKey: string; wallet: string };
      expect(created.accountId).toMatch(/^acc_/);
      expect(created.wallet).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
      const me = (await (await getWithKey('/v1/accounts/me', created.apiKey)).json()) as { id: string; wallet: string };
      expect(me.id).toBe(created.accountId);
      expect(me.wallet).toBe(created.wallet);
    }
  });

  it('refuses a wallet, or any other field, with 400 and creates nothing', async () => {
    const before = await accountCount();
    const wallet = await postJson('/v1/dev/accounts', { wallet: '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM' });
    expect(await errorOf(wallet)).toMatchObject({ status: 400, code: 'invalid_request' });
    const other = await postJson('/v1/dev/accounts', { name: 'me' });
    expect(await errorOf(other)).toMatchObject({ status: 400, code: 'invalid_request' });
    const notAnObject = await postJson('/v1/dev/accounts', ['wallet']);
    expect(await errorOf(notAnObject)).toMatchObject({ status: 400, code: 'invalid_request' });
    const malformed = await post({ headers: { 'content-type': 'application/json' }, body: '{"wallet":' });
    expect(await errorOf(malformed)).toMatchObject({ status: 400, code: 'malformed_json' });
    expect(await accountCount()).toBe(before);
  });

  it('says what to do instead of sending a wallet', async () => {
    const res = await postJson('/v1/dev/accounts', { wallet: '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM' });
    const { message } = await errorOf(res);
    expect(message).toMatch(/^wallet: /);
    expect(message).toContain('--owner');
  });
});
