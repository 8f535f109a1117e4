import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hashApiKey, issueApiKey } from '../../workers/accounts/api-keys.ts';
import { getConfig } from '../../workers/config.ts';
import { errorOf } from './helpers/agent.ts';
import { testDb } from './helpers/ledger.ts';
import { BASE, challenge, getWithKey, newWallet, postJson, postJsonIn, signIn, type TestWallet } from './helpers/wallet.ts';

// GET /v1/accounts/me/api-keys, DELETE /v1/accounts/me/api-keys/{prefix}, and the cap on live
// keys per account that every sign-in (and every dev account) is issued under.

interface KeyView {
  prefix: string;
  origin: 'siws' | 'dev';
  createdAt: string;
  lastUsedAt: string | null;
  current: boolean;
}

interface VerifyAnswer {
  accountId: string;
  apiKey: string;
  revokedApiKeys: string[];
}

const CAP = getConfig(env).API_KEYS_PER_ACCOUNT;
const prefixOf = (key: string) => key.slice(0, 12);

const listKeys = async (apiKey: string): Promise<{ apiKeys: KeyView[]; limit: number }> => {
  const res = await getWithKey('/v1/accounts/me/api-keys', apiKey);
  expect(res.status).toBe(200);
  return res.json();
};

const revoke = (apiKey: string, prefix: string) =>
  exports.default.fetch(
    new Request(`${BASE}/v1/accounts/me/api-keys/${prefix}`, { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` } }),
  );

const liveKeys = async (accountId: string) =>
  (
    await env.DB.prepare('SELECT hash, prefix FROM api_keys WHERE account_id = ? AND revoked_at IS NULL ORDER BY prefix')
      .bind(accountId)
      .all<{ hash: string; prefix: string }>()
  ).results;

const authenticates = async (apiKey: string) => (await getWithKey('/v1/accounts/me', apiKey)).status === 200;

/** `n` sequential sign-ins of one wallet; their answers in order. */
async function signIns(wallet: TestWallet, n: number): Promise<VerifyAnswer[]> {
  const answers: VerifyAnswer[] = [];
  for (let i = 0; i < n; i++) answers.push((await signIn(wallet)) as unknown as VerifyAnswer);
  return answers;
}

async function signedChallenge(wallet: TestWallet): Promise<{ message: string; signature: string }> {
  const { message } = await challenge(wallet);
  return { message, signature: await wallet.sign(message) };
}

describe('GET /v1/accounts/me/api-keys', () => {
  it("lists the account's live keys: prefix, origin, created, last used, which one is in use; never the hash", async () => {
    const wallet = await newWallet();
    const [first, second] = await signIns(wallet, 2);
    // Another account's keys are not listed.
    await signIn(await newWallet());

    // The first key is used; its last use is recorded (at most hourly, after the answer).
    expect(await authenticates(first!.apiKey)).toBe(true);
    const firstHash = await hashApiKey(first!.apiKey);
    await expect
      .poll(async () => env.DB.prepare('SELECT last_used_at FROM api_keys WHERE hash = ?').bind(firstHash).first('last_used_at'))
      .toBeGreaterThan(0);

    const { apiKeys, limit } = await listKeys(second!.apiKey);
    expect(limit).toBe(CAP);
    expect(apiKeys.map((k) => k.prefix).sort()).toEqual([prefixOf(first!.apiKey), prefixOf(second!.apiKey)].sort());
    const byPrefix = new Map(apiKeys.map((k) => [k.prefix, k]));
    const firstView = byPrefix.get(prefixOf(first!.apiKey))!;
    const secondView = byPrefix.get(prefixOf(second!.apiKey))!;
    expect(firstView).toMatchObject({ origin: 'siws', current: false });
    expect(secondView).toMatchObject({ origin: 'siws', current: true });
    expect(Date.parse(firstView.lastUsedAt!)).toBeGreaterThan(0);
    expect(Date.parse(secondView.createdAt)).toBeGreaterThanOrEqual(Date.parse(firstView.createdAt));
    expect(Object.keys(firstView).sort()).toEqual(['createdAt', 'current', 'lastUsedAt', 'origin', 'prefix']);
    const text = JSON.stringify(apiKeys);
    expect(text).not.toContain(firstHash);
    expect(text).not.toContain(first!.apiKey);
  });

  it('lists a dev account key with origin dev', async () => {
    const res = await postJson('/v1/dev/accounts', {});
    expect(res.status).toBe(201);
    const { apiKey } = (await res.json()) as { apiKey: string };
    expect((await listKeys(apiKey)).apiKeys).toEqual([expect.objectContaining({ prefix: prefixOf(apiKey), origin: 'dev', current: true })]);
  });

  it('needs an API key', async () => {
    expect(await errorOf(await exports.default.fetch(new Request(`${BASE}/v1/accounts/me/api-keys`)))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });
});

describe('DELETE /v1/accounts/me/api-keys/{prefix}', () => {
  it('revokes another key of the account: it gets 401 at once, the rest keep working', async () => {
    const wallet = await newWallet();
    const [first, second] = await signIns(wallet, 2);
    const res = await revoke(second!.apiKey, prefixOf(first!.apiKey));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { revoked: KeyView & { revokedAt: string }; current: boolean };
    expect(body.current).toBe(false);
    expect(body.revoked).toMatchObject({ prefix: prefixOf(first!.apiKey), origin: 'siws' });
    expect(Date.parse(body.revoked.revokedAt)).toBeGreaterThan(0);
    expect(await errorOf(await getWithKey('/v1/accounts/me', first!.apiKey))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await authenticates(second!.apiKey)).toBe(true);
    expect((await listKeys(second!.apiKey)).apiKeys.map((k) => k.prefix)).toEqual([prefixOf(second!.apiKey)]);
    // Revoked already: nothing left to revoke.
    expect(await errorOf(await revoke(second!.apiKey, prefixOf(first!.apiKey)))).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('revokes the key the request came with, and says so', async () => {
    const wallet = await newWallet();
    const [only] = await signIns(wallet, 1);
    const res = await revoke(only!.apiKey, prefixOf(only!.apiKey));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ current: true, revoked: { prefix: prefixOf(only!.apiKey) } });
    expect(await errorOf(await getWithKey('/v1/accounts/me/api-keys', only!.apiKey))).toMatchObject({ status: 401, code: 'unauthorized' });
    // Signing in again still works: the wallet is never locked out.
    const again = (await signIn(wallet)) as unknown as VerifyAnswer;
    expect(again.accountId).toBe(only!.accountId);
    expect(await authenticates(again.apiKey)).toBe(true);
  });

  it("cannot revoke another account's key: 404, and that key keeps working", async () => {
    const [mine] = await signIns(await newWallet(), 1);
    const [theirs] = await signIns(await newWallet(), 1);
    expect(await errorOf(await revoke(mine!.apiKey, prefixOf(theirs!.apiKey)))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await authenticates(theirs!.apiKey)).toBe(true);
    expect((await liveKeys(theirs!.accountId)).map((k) => k.prefix)).toEqual([prefixOf(theirs!.apiKey)]);
  });

  it('refuses a malformed prefix with 400 and an unknown one with 404, changing nothing', async () => {
    const [me] = await signIns(await newWallet(), 1);
    const before = JSON.stringify(await liveKeys(me!.accountId));
    for (const bad of ['gpk_', 'gpk_abc', 'gpk_abcdefghi', 'xyz_abcdefgh', 'gpk_abc%21efgh', encodeURIComponent(me!.apiKey)]) {
      expect(await errorOf(await revoke(me!.apiKey, bad)), bad).toMatchObject({ status: 400, code: 'invalid_request' });
    }
    expect(await errorOf(await revoke(me!.apiKey, 'gpk_AAAAAAAA'))).toMatchObject({ status: 404, code: 'not_found' });
    expect(JSON.stringify(await liveKeys(me!.accountId))).toBe(before);
    expect(await authenticates(me!.apiKey)).toBe(true);
  });

  it('needs an API key', async () => {
    const [me] = await signIns(await newWallet(), 1);
    const res = await exports.default.fetch(new Request(`${BASE}/v1/accounts/me/api-keys/${prefixOf(me!.apiKey)}`, { method: 'DELETE' }));
    expect(await errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await authenticates(me!.apiKey)).toBe(true);
  });
});

describe('live keys per account are capped', () => {
  it('a sign-in at the cap revokes the least recently used key, in the same batch, and names it', async () => {
    const wallet = await newWallet();
    const keys = await signIns(wallet, CAP);
    const accountId = keys[0]!.accountId;
    expect(keys.every((k) => k.revokedApiKeys.length === 0)).toBe(true);
    // Make the issue order unambiguous (sign-ins a millisecond apart could tie), then use the
    // oldest key: it is the oldest created but not the least recently used.
    const day = 86_400_000;
    const base = Date.now() - day;
    for (const [i, k] of keys.entries()) {
      await env.DB.prepare('UPDATE api_keys SET created_at = ? WHERE hash = ?')
        .bind(base + i * 1000, await hashApiKey(k.apiKey))
        .run();
    }
    expect(await authenticates(keys[0]!.apiKey)).toBe(true);
    const usedHash = await hashApiKey(keys[0]!.apiKey);
    await expect
      .poll(async () => env.DB.prepare('SELECT last_used_at FROM api_keys WHERE hash = ?').bind(usedHash).first('last_used_at'))
      .toBeGreaterThan(base + day / 2);

    const next = (await signIn(wallet)) as unknown as VerifyAnswer;
    expect(next.revokedApiKeys).toEqual([prefixOf(keys[1]!.apiKey)]);
    expect(await liveKeys(accountId)).toHaveLength(CAP);
    expect(await errorOf(await getWithKey('/v1/accounts/me', keys[1]!.apiKey))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await authenticates(keys[0]!.apiKey)).toBe(true);
    expect(await authenticates(next.apiKey)).toBe(true);
    const listed = (await listKeys(next.apiKey)).apiKeys.map((k) => k.prefix);
    expect(listed).toHaveLength(CAP);
    expect(listed).not.toContain(prefixOf(keys[1]!.apiKey));

    // And the one after that takes the next least recently used.
    const after = (await signIn(wallet)) as unknown as VerifyAnswer;
    expect(after.revokedApiKeys).toEqual([prefixOf(keys[2]!.apiKey)]);
    expect(await liveKeys(accountId)).toHaveLength(CAP);
  });

  it('two concurrent sign-ins at cap - 1 leave exactly the cap, both new keys working', async () => {
    const wallet = await newWallet();
    const keys = await signIns(wallet, CAP - 1);
    const accountId = keys[0]!.accountId;
    const [a, b] = [await signedChallenge(wallet), await signedChallenge(wallet)];
    // Through the app in this isolate, so the two requests interleave at every await (requests
    // through the Worker's own fetch ran one after the other here, which would hide a race).
    const answers = await Promise.all([a, b].map((s) => postJsonIn(env, '/v1/auth/siws/verify', s)));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    const [x, y] = (await Promise.all(answers.map((r) => r.json()))) as VerifyAnswer[];
    const live = await liveKeys(accountId);
    expect(live).toHaveLength(CAP);
    expect(await authenticates(x!.apiKey)).toBe(true);
    expect(await authenticates(y!.apiKey)).toBe(true);
    // Exactly one earlier key went, and the answer that revoked it names it.
    const revoked = [...x!.revokedApiKeys, ...y!.revokedApiKeys];
    expect(revoked).toHaveLength(1);
    const earlier = keys.map((k) => prefixOf(k.apiKey));
    expect(earlier).toContain(revoked[0]);
    expect(live.map((k) => k.prefix)).not.toContain(revoked[0]);
  });

  it('many concurrent issues at cap - 1 leave exactly the cap', async () => {
    const wallet = await newWallet();
    const keys = await signIns(wallet, CAP - 1);
    const accountId = keys[0]!.accountId;
    const issued = await Promise.all(Array.from({ length: 6 }, () => issueApiKey(testDb(), accountId, 'dev', { maxLive: CAP })));
    expect(await liveKeys(accountId)).toHaveLength(CAP);
    // Five keys had to go: each named once, by the issue that revoked it.
    const revoked = issued.flatMap((i) => i.revokedPrefixes);
    expect(revoked).toHaveLength(5);
    expect(new Set(revoked).size).toBe(5);
    // The last issue D1 ran is live; any key still live authenticates.
    const live = new Set((await liveKeys(accountId)).map((k) => k.prefix));
    expect(issued.some((i) => live.has(prefixOf(i.apiKey)))).toBe(true);
    for (const i of issued) expect(await authenticates(i.apiKey)).toBe(live.has(prefixOf(i.apiKey)));
  });

  it('a lower cap takes effect at the next sign-in', async () => {
    const wallet = await newWallet();
    const keys = await signIns(wallet, 4);
    const lower = { ...env, API_KEYS_PER_ACCOUNT: '3' } as typeof env;
    const next = await postJsonIn(lower, '/v1/auth/siws/verify', await signedChallenge(wallet));
    expect(next.status).toBe(200);
    const answer = (await next.json()) as VerifyAnswer;
    expect(answer.revokedApiKeys).toHaveLength(2);
    const live = await liveKeys(keys[0]!.accountId);
    expect(live).toHaveLength(3);
    expect(live.map((k) => k.prefix)).toContain(prefixOf(answer.apiKey));
    for (const prefix of answer.revokedApiKeys) expect(keys.map((k) => prefixOf(k.apiKey))).toContain(prefix);
  });

  it('dev accounts are issued under the same cap', async () => {
    const res = await postJsonIn({ ...env, API_KEYS_PER_ACCOUNT: '1' } as typeof env, '/v1/dev/accounts', {});
    expect(res.status).toBe(201);
    const { accountId, apiKey } = (await res.json()) as { accountId: string; apiKey: string };
    expect(await liveKeys(accountId)).toHaveLength(1);
    expect(await authenticates(apiKey)).toBe(true);
  });
});
