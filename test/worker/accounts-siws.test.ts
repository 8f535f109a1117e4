import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { buildSiwsMessage, parseSiwsMessage } from '../../workers/accounts/siws-message.ts';
import { confirmLink, createLinkToken, LINK_TOKEN_TTL_MS } from '../../workers/accounts/links.ts';
import { errorOf } from './helpers/agent.ts';
import { testDb } from './helpers/ledger.ts';
import { challenge, getWithKey, newWallet, postJson, signIn } from './helpers/wallet.ts';

const verify = (message: string, signature: string) => postJson('/v1/auth/siws/verify', { message, signature });

const counts = async () =>
  JSON.stringify(
    (
      await env.DB.batch([
        env.DB.prepare("SELECT count(*) AS n FROM accounts WHERE kind = 'user'"),
        env.DB.prepare('SELECT count(*) AS n FROM api_keys'),
        env.DB.prepare('SELECT count(*) AS n FROM account_links'),
      ])
    ).map((r) => r.results),
  );

describe('SIWS challenge', () => {
  it('issues a standard SIWS message with a fresh nonce, the configured chain and an expiry', async () => {
    const wallet = await newWallet();
    const { message, nonce, expiresAt } = await challenge(wallet);
    const lines = message.split('\n');
    expect(lines[0]).toBe('gridplane.test wants you to sign in with your Solana account:');
    expect(lines[1]).toBe(wallet.address);
    expect(lines[3]).toBe('Sign in to gridplane.');
    expect(lines.slice(5, 9)).toEqual(['URI: http://gridplane.test', 'Version: 1', 'Chain ID: devnet', `Nonce: ${nonce}`]);
    expect(lines[9]).toMatch(/^Issued At: \d{4}-\d\d-\d\dT/);
    expect(lines[10]).toBe(`Expiration Time: ${expiresAt}`);
    expect(lines[11]).toMatch(/^Request ID: siws_[0-9a-f]{32}$/);
    expect(parseSiwsMessage(message)).toMatchObject({ domain: 'gridplane.test', address: wallet.address, nonce, chainId: 'devnet' });
    const other = await challenge(wallet);
    expect(other.nonce).not.toBe(nonce);
  });

  it('rejects a malformed address and an unknown link token', async () => {
    expect(await errorOf(await postJson('/v1/auth/siws/challenge', { address: 'not-a-wallet' }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    const wallet = await newWallet();
    expect(await errorOf(await postJson('/v1/auth/siws/challenge', { address: wallet.address, linkToken: 'lt_nope' }))).toMatchObject({
      status: 409,
      code: 'link_token_invalid',
    });
  });
});

describe('SIWS verify', () => {
  it('signs in: creates the account once, returns an API key that authenticates', async () => {
    const wallet = await newWallet();
    const first = await signIn(wallet);
    expect(first).toMatchObject({ wallet: wallet.address, created: true, linked: null });
    expect(first.accountId).toMatch(/^acc_[0-9a-f]{32}$/);
    expect(first.apiKey).toMatch(/^gpk_[A-Za-z0-9_-]{43}$/);
    const again = await signIn(wallet);
    expect(again.accountId).toBe(first.accountId);
    expect(again.created).toBe(false);
    expect(again.apiKey).not.toBe(first.apiKey);

    const me = await getWithKey('/v1/accounts/me', first.apiKey);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: first.accountId, wallet: wallet.address, balance: '0.000000', links: [] });
    // Only the hash is stored.
    const stored = await env.DB.prepare('SELECT hash, prefix FROM api_keys WHERE account_id = ?')
      .bind(first.accountId)
      .all<{ hash: string; prefix: string }>();
    expect(stored.results.map((r) => r.hash)).not.toContain(first.apiKey);
    expect(stored.results.map((r) => r.prefix)).toContain(first.apiKey.slice(0, 12));
  });

  it('accepts base64 signatures too', async () => {
    const wallet = await newWallet();
    const { message } = await challenge(wallet);
    const res = await verify(message, await wallet.sign(message, 'base64'));
    expect(res.status).toBe(200);
  });

  it('rejects a replayed nonce', async () => {
    const wallet = await newWallet();
    const { message } = await challenge(wallet);
    const signature = await wallet.sign(message);
    expect((await verify(message, signature)).status).toBe(200);
    const before = await counts();
    expect(await errorOf(await verify(message, signature))).toMatchObject({ status: 401, code: 'nonce_invalid' });
    expect(await counts()).toBe(before);
  });

  it('lets exactly one of many racing verifications of one challenge through', async () => {
    const wallet = await newWallet();
    const { message } = await challenge(wallet);
    const signature = await wallet.sign(message);
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(message, signature)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(19);
  });

  it('rejects an expired message', async () => {
    const wallet = await newWallet();
    const { message, nonce } = await challenge(wallet);
    // Age the stored challenge and sign a message whose expiry has passed, as a wallet would
    // when the user comes back too late.
    const past = new Date(Date.now() - 60_000).toISOString();
    const expired = message.replace(/^Expiration Time: .*$/m, `Expiration Time: ${past}`);
    expect(await errorOf(await verify(expired, await wallet.sign(expired)))).toMatchObject({ status: 401, code: 'message_expired' });
    // Also the untouched message once its challenge has expired in storage.
    await env.DB.prepare('UPDATE siws_nonces SET expires_at = ? WHERE nonce = ?')
      .bind(Date.now() - 1, nonce)
      .run();
    expect(await errorOf(await verify(message, await wallet.sign(message)))).toMatchObject({ status: 401, code: 'nonce_invalid' });
  });

  it('rejects a message for another domain', async () => {
    const wallet = await newWallet();
    const { message } = await challenge(wallet);
    const phished = message
      .replace(/^gridplane\.test wants/, 'evil.example wants')
      .replace('URI: http://gridplane.test', 'URI: http://evil.example');
    expect(await errorOf(await verify(phished, await wallet.sign(phished)))).toMatchObject({ status: 401, code: 'wrong_domain' });
    const wrongUri = message.replace('URI: http://gridplane.test', 'URI: http://evil.example');
    expect(await errorOf(await verify(wrongUri, await wallet.sign(wrongUri)))).toMatchObject({ status: 401, code: 'wrong_domain' });
  });

  it('rejects a message edited after it was issued, even when re-signed', async () => {
    const wallet = await newWallet();
    const { message } = await challenge(wallet);
    const signature = await wallet.sign(message);
    const edited = message.replace('Sign in to gridplane.', 'Sign in to gridplane and give me everything.');
    // Signature over the original, message edited: the signature does not match.
    expect(await errorOf(await verify(edited, signature))).toMatchObject({ status: 401, code: 'bad_signature' });
    // Edited and re-signed by the same wallet: not the message that was issued for this nonce.
    expect(await errorOf(await verify(edited, await wallet.sign(edited)))).toMatchObject({ status: 401, code: 'nonce_invalid' });
    const later = message.replace(/^Expiration Time: .*$/m, `Expiration Time: ${new Date(Date.now() + 86_400_000).toISOString()}`);
    expect(await errorOf(await verify(later, await wallet.sign(later)))).toMatchObject({ status: 401, code: 'nonce_invalid' });
    // The untouched message still works: failed attempts did not burn the nonce.
    expect((await verify(message, signature)).status).toBe(200);
  });

  it('rejects a signature from another wallet, and a message moved to another wallet', async () => {
    const wallet = await newWallet();
    const thief = await newWallet();
    const { message } = await challenge(wallet);
    expect(await errorOf(await verify(message, await thief.sign(message)))).toMatchObject({ status: 401, code: 'bad_signature' });
    const moved = message.replace(wallet.address, thief.address);
    expect(await errorOf(await verify(moved, await thief.sign(moved)))).toMatchObject({ status: 401, code: 'nonce_invalid' });
  });

  it('rejects the wrong chain, malformed text and malformed signatures', async () => {
    const wallet = await newWallet();
    const { message } = await challenge(wallet);
    const mainnet = message.replace('Chain ID: devnet', 'Chain ID: mainnet');
    expect(await errorOf(await verify(mainnet, await wallet.sign(mainnet)))).toMatchObject({ status: 401, code: 'wrong_chain' });
    expect(await errorOf(await verify('hello', await wallet.sign('hello')))).toMatchObject({ status: 400, code: 'invalid_message' });
    const spaced = message.replace('Version: 1', 'Version:  1');
    expect(await errorOf(await verify(spaced, await wallet.sign(spaced)))).toMatchObject({ status: 400, code: 'invalid_message' });
    expect(await errorOf(await verify(message, 'abc'))).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(await errorOf(await postJson('/v1/auth/siws/verify', { message }))).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('honours SIWS_DOMAIN and SOLANA_CLUSTER from the environment', async () => {
    const wallet = await newWallet();
    const prodEnv = { ...env, ENVIRONMENT: 'production', SIWS_DOMAIN: 'app.gridplane.example' };
    const { app } = await import('../../workers/app.ts');
    const prod = await app.fetch(
      new Request('http://whatever.test/v1/auth/siws/challenge', { method: 'POST', body: JSON.stringify({ address: wallet.address }) }),
      prodEnv,
    );
    const { message } = (await prod.json()) as { message: string };
    expect(message.split('\n')[0]).toBe('app.gridplane.example wants you to sign in with your Solana account:');
    expect(message).toContain('URI: https://app.gridplane.example');
    expect(message).toContain('Chain ID: mainnet');
    const signature = await wallet.sign(message);
    const ok = await app.fetch(
      new Request('http://whatever.test/v1/auth/siws/verify', { method: 'POST', body: JSON.stringify({ message, signature }) }),
      prodEnv,
    );
    expect(ok.status).toBe(200);
  });
});

describe('linking a chat user', () => {
  it('links the Telegram user whose token the message carries, once', async () => {
    const db = testDb();
    const { token, ref } = await createLinkToken(db, 'telegram', '123456789', { userName: '@ada' });
    const wallet = await newWallet();
    const { message } = await challenge(wallet, token);
    expect(message).toContain('Sign in to gridplane and link Telegram user @ada (id 123456789) to this wallet (confirmed in chat).');
    expect(message.endsWith(`Resources:\n- urn:gridplane:link:${token}`)).toBe(true);
    const res = await verify(message, await wallet.sign(message));
    const body = (await res.json()) as { accountId: string; apiKey: string; linked: unknown };
    expect(res.status).toBe(200);
    expect(body.linked).toEqual({ platform: 'telegram', platformUserId: '123456789', platformUserName: '@ada', confirmed: false });
    // Linked once the Telegram user confirms in chat (the bot's button).
    expect(((await (await getWithKey('/v1/accounts/me', body.apiKey)).json()) as { links: unknown[] }).links).toEqual([]);
    expect(await confirmLink(db, 'telegram', '123456789', ref, Date.now())).toEqual({ accountId: body.accountId });
    const me = (await (await getWithKey('/v1/accounts/me', body.apiKey)).json()) as { links: unknown[] };
    expect(me.links).toEqual([{ platform: 'telegram', platformUserId: '123456789', linkedAt: expect.any(String) }]);

    // The token is single-use: a second wallet cannot even get a challenge with it.
    const other = await newWallet();
    expect(await errorOf(await postJson('/v1/auth/siws/challenge', { address: other.address, linkToken: token }))).toMatchObject({
      status: 409,
      code: 'link_token_invalid',
    });
  });

  it('moves a chat user to the account that links it last, and refuses an expired token', async () => {
    const db = testDb();
    const a = await newWallet();
    const b = await newWallet();
    const signInAndConfirm = async (w: typeof a) => {
      const { token, ref } = await createLinkToken(db, 'discord', '42');
      const signed = await signIn(w, token);
      await confirmLink(db, 'discord', '42', ref, Date.now());
      return signed;
    };
    const first = await signInAndConfirm(a);
    const second = await signInAndConfirm(b);
    const row = await env.DB.prepare("SELECT account_id FROM account_links WHERE platform = 'discord' AND platform_user_id = '42'").first(
      'account_id',
    );
    expect(row).toBe(second.accountId);
    expect(row).not.toBe(first.accountId);

    // Issued with the usual lifetime, which ran out a second ago: explicit times, no waiting.
    const { token } = await createLinkToken(db, 'telegram', '777', { nowMs: Date.now() - LINK_TOKEN_TTL_MS - 1_000 });
    expect(await errorOf(await postJson('/v1/auth/siws/challenge', { address: a.address, linkToken: token }))).toMatchObject({
      status: 409,
    });
  });

  it('fails the sign-in when the token was used between challenge and verify', async () => {
    const db = testDb();
    const { token, ref } = await createLinkToken(db, 'telegram', '999');
    const a = await newWallet();
    const b = await newWallet();
    const ca = await challenge(a, token);
    const cb = await challenge(b, token);
    expect((await verify(ca.message, await a.sign(ca.message))).status).toBe(200);
    expect(await errorOf(await verify(cb.message, await b.sign(cb.message)))).toMatchObject({ status: 409, code: 'link_token_invalid' });
    await confirmLink(db, 'telegram', '999', ref, Date.now());
    const owner = await env.DB.prepare("SELECT account_id FROM account_links WHERE platform_user_id = '999'").first('account_id');
    const aId = await env.DB.prepare('SELECT id FROM accounts WHERE wallet = ?').bind(a.address).first('id');
    expect(owner).toBe(aId);
  });
});

describe('SIWS message text', () => {
  it('round-trips every field and refuses variants', () => {
    const fields = {
      domain: 'example.com:8787',
      address: '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU',
      statement: 'Hi.',
      uri: 'https://example.com',
      version: '1',
      chainId: 'devnet',
      nonce: 'abcdefgh12345678',
      issuedAt: '2026-11-21T10:00:00.000Z',
      expirationTime: '2026-11-21T10:10:00.000Z',
      notBefore: '2026-11-21T10:00:00.000Z',
      requestId: 'r1',
      resources: ['urn:a', 'urn:b'],
    };
    const text = buildSiwsMessage(fields);
    expect(parseSiwsMessage(text)).toEqual(fields);
    const minimal = { domain: 'a.b', address: fields.address };
    expect(parseSiwsMessage(buildSiwsMessage(minimal))).toEqual(minimal);
    expect(parseSiwsMessage(`${text}\n`)).toBeNull();
    expect(parseSiwsMessage(text.replace('\n', '\r\n'))).toBeNull();
    expect(parseSiwsMessage(text.replace('Version: 1\n', '').replace('URI:', 'Version: 1\nURI:'))).toBeNull();
  });
});
