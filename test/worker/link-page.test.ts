import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createLinkToken, hashLinkToken } from '../../workers/accounts/links.ts';
import { app } from '../../workers/app.ts';
import { getConfig } from '../../workers/config.ts';
import type { Env } from '../../workers/env.ts';
import { api, errorOf } from './helpers/agent.ts';
import { command, discordHarness } from './helpers/discord.ts';
import { testDb } from './helpers/ledger.ts';
import { BASE, newWallet, postJson, signIn } from './helpers/wallet.ts';

// The wallet page as served: what it says with and without a link token, the friendly pages for
// links that cannot be used (with the right status, and without using the token up), and a
// Content-Security-Policy that lets exactly its own style and script run.

const WHY =
  'You sign a one-time sign-in message; it moves no funds and costs no fee. It proves this wallet is yours so gridplane can link it to your chat account.';

const page = async (path: string) => {
  const res = await api(path, { headers: { accept: 'text/html' } });
  return { res, text: await res.text() };
};

const newToken = (platform: 'telegram' | 'discord' = 'telegram', options: { nowMs?: number; ttlMs?: number } = {}) =>
  createLinkToken(testDb(), platform, String(100_000 + Math.floor(Math.random() * 1e6)), options);

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `sha256-${btoa(String.fromCharCode(...digest))}`;
}

const directive = (csp: string, name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));
const usedAt = async (token: string) =>
  env.DB.prepare('SELECT used_at FROM link_tokens WHERE token_hash = ?')
    .bind(await hashLinkToken(token))
    .first('used_at');

describe('GET /link with a usable token', () => {
  it('asks the person to link their Telegram account, says what is signed and why, and carries the token to the script', async () => {
    const { token, expiresAt } = await newToken('telegram');
    const { res, text } = await page(`/link?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(text).toContain('<title>Link your wallet to Telegram · gridplane</title>');
    expect(text).toContain('<h1>Link your wallet to Telegram</h1>');
    expect(text).toContain(`<p class="why" id="why">${WHY}</p>`);
    expect(text).toContain(`data-token="${token}"`);
    expect(text).toContain('data-cluster="devnet"');
    const iso = new Date(expiresAt).toISOString();
    expect(text).toContain(`expires at <time class="nowrap" datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>.`);
    // Install links are plain links for when no wallet is found; nothing is fetched from them.
    for (const site of ['https://phantom.com/', 'https://solflare.com/', 'https://backpack.app/']) expect(text).toContain(`href="${site}"`);
    expect(text).toContain('<noscript>');
  });

  it('names Discord for a Discord token', async () => {
    const { token } = await newToken('discord');
    const { res, text } = await page(`/link?token=${token}`);
    expect(res.status).toBe(200);
    expect(text).toContain('<h1>Link your wallet to Discord</h1>');
  });

  it('only looks at the token: opening the page twice leaves it usable for the sign-in', async () => {
    const { token } = await newToken();
    expect((await page(`/link?token=${token}`)).res.status).toBe(200);
    expect((await page(`/link?token=${token}`)).res.status).toBe(200);
    expect(await usedAt(token)).toBeNull();
    const signedIn = await signIn(await newWallet(), token);
    expect(signedIn.linked).toMatchObject({ platform: 'telegram' });
  });
});

describe('GET /link without a token', () => {
  it('is a plain sign-in that promises an API key shown once', async () => {
    const { res, text } = await page('/link');
    expect(res.status).toBe(200);
    expect(text).toContain('<h1>Sign in with your wallet</h1>');
    expect(text).toContain('data-token=""');
    expect(text).toContain('moves no funds and costs no fee');
    expect(text).toContain('It is shown once, now: copy it and keep it secret.');
    expect(text).toContain('id="copy"');
    expect(text).not.toContain('expires at');
  });
});

describe('GET /link with a token that cannot be used', () => {
  it('says an expired link has expired, with 410, and how to get a new one', async () => {
    const { token } = await newToken('discord', { nowMs: Date.now() - 20 * 60_000 });
    const { res, text } = await page(`/link?token=${token}`);
    expect(res.status).toBe(410);
    expect(text).toContain('<h1>This link has expired</h1>');
    expect(text).toContain('Send <code>/link</code> to the gridplane bot in Discord for a new one.');
    expect(text).not.toContain(token);
    expect(text).not.toContain('<script>');
  });

  it('says a used link was used, with 410, even once it has also expired', async () => {
    const { token } = await newToken('telegram');
    await signIn(await newWallet(), token);
    const { res, text } = await page(`/link?token=${token}`);
    expect(res.status).toBe(410);
    expect(text).toContain('<h1>This link was already used</h1>');
    expect(text).toContain('your Telegram account is linked already');
    await env.DB.prepare('UPDATE link_tokens SET expires_at = 1 WHERE used_at IS NOT NULL').run();
    expect((await page(`/link?token=${token}`)).text).toContain('<h1>This link was already used</h1>');
  });

  it('answers 404 for a well-formed token nobody issued and 400 for anything else', async () => {
    const unknown = await page(`/link?token=lt_${'A'.repeat(32)}`);
    expect(unknown.res.status).toBe(404);
    expect(unknown.text).toContain('<h1>This link is not valid</h1>');
    for (const bad of ['', 'lt_short', `lt_${'A'.repeat(33)}`]) {
      const res = (await page(`/link?token=${encodeURIComponent(bad)}`)).res;
      expect(res.status, bad).toBe(400);
    }
  });

  it('never reflects what was sent: a hostile token stays out of the page', async () => {
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const { res, text } = await page(`/link?token=${encodeURIComponent(hostile)}`);
    expect(res.status).toBe(400);
    expect(text).not.toContain('alert(');
    expect(text).not.toContain('<img');
    expect(text).toContain('<h1>This link is not valid</h1>');
  });
});

describe('headers of the wallet page', () => {
  it('allows exactly its own styles and script by hash, data: icons, and same-origin API calls', async () => {
    const { token } = await newToken();
    const { res, text } = await page(`/link?token=${token}`);
    const csp = res.headers.get('content-security-policy')!;
    expect(directive(csp, 'default-src')).toBe("default-src 'none'");
    expect(directive(csp, 'connect-src')).toBe("connect-src 'self'");
    expect(directive(csp, 'img-src')).toBe("img-src 'self' data:");
    expect(directive(csp, 'frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive(csp, 'form-action')).toBe("form-action 'none'");

    const styles = [...text.matchAll(/<style>(.*?)<\/style>/gs)].map((m) => m[1]!);
    const scripts = [...text.matchAll(/<script>(.*?)<\/script>/gs)].map((m) => m[1]!);
    expect(styles).toHaveLength(2);
    expect(scripts).toHaveLength(1);
    expect(directive(csp, 'style-src')).toBe(
      `style-src ${(await Promise.all(styles.map(sha256Base64))).map((hash) => `'${hash}'`).join(' ')}`,
    );
    expect(directive(csp, 'script-src')).toBe(`script-src '${await sha256Base64(scripts[0]!)}'`);
    // Both stylesheets sit in the head; no inline handler or style attribute would be allowed.
    expect(text.indexOf('</head>')).toBeGreaterThan(text.lastIndexOf('</style>'));
    expect(text).not.toMatch(/\son[a-z]+=/i);
    expect(text).not.toMatch(/\sstyle="/i);

    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps the same headers on the problem pages, with no script at all', async () => {
    const { res } = await page(`/link?token=lt_${'B'.repeat(32)}`);
    const csp = res.headers.get('content-security-policy')!;
    expect(directive(csp, 'script-src')).toBe("script-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });
});

describe('POST /v1/dev/link-tokens', () => {
  it('creates a token as a bot would, whose page and sign-in work', async () => {
    const res = await postJson('/v1/dev/link-tokens', { platform: 'discord', userId: '123456789012345678' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; expiresAt: string; url: string };
    expect(body.token).toMatch(/^lt_[A-Za-z0-9_-]{32}$/);
    expect(body.url).toBe(`${BASE}/link?token=${body.token}`);
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    expect((await page(`/link?token=${body.token}`)).res.status).toBe(200);
    const signedIn = await signIn(await newWallet(), body.token);
    // Signed in; the link itself waits for the Discord user's Confirm (test/worker/link-confirmation.test.ts).
    expect(signedIn.linked).toEqual({
      platform: 'discord',
      platformUserId: '123456789012345678',
      platformUserName: null,
      confirmed: false,
    });
  });

  it('rejects bad input and does not exist in production', async () => {
    expect(await errorOf(await postJson('/v1/dev/link-tokens', { platform: 'slack', userId: '1' }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(await errorOf(await postJson('/v1/dev/link-tokens', { platform: 'telegram', userId: 'abc' }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    const before = await env.DB.prepare('SELECT count(*) AS n FROM link_tokens').first('n');
    const prod = await app.fetch(
      new Request(`${BASE}/v1/dev/link-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ platform: 'telegram', userId: '1' }),
      }),
      { ...env, ENVIRONMENT: 'production' },
    );
    expect(await errorOf(prod)).toMatchObject({ status: 404, code: 'not_found' });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM link_tokens').first('n')).toBe(before);
  });
});

describe('the links the bots send', () => {
  it('point at /link on PUBLIC_BASE_URL when it is set, and at the webhook origin otherwise', async () => {
    const linkOf = async (overrides: Record<string, string>) => {
      const h = await discordHarness(overrides);
      const body = (await (await h.interact(command(['link']))).json()) as { data: { components: { components: { url: string }[] }[] } };
      return new URL(body.data.components[0]!.components[0]!.url);
    };
    const configured = await linkOf({ PUBLIC_BASE_URL: 'https://app.gridplane.example/' });
    expect(configured.origin).toBe('https://app.gridplane.example');
    expect(configured.pathname).toBe('/link');
    // The token in it opens the wallet page (served here on the test origin).
    expect((await page(`/link${configured.search}`)).res.status).toBe(200);
    const derived = await linkOf({});
    expect(derived.origin).toBe(BASE);
  });

  it('PUBLIC_BASE_URL is an http(s) URL, reduced to its origin; blank means unset', () => {
    const parse = (value: string) => getConfig({ ...env, PUBLIC_BASE_URL: value } as unknown as Env).PUBLIC_BASE_URL;
    expect(parse('https://gridplane.example/some/path?x=1')).toBe('https://gridplane.example');
    expect(parse('http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787');
    expect(parse('')).toBeUndefined();
    expect(() => parse('ftp://gridplane.example')).toThrow(/PUBLIC_BASE_URL/);
    expect(() => parse('gridplane.example')).toThrow(/PUBLIC_BASE_URL/);
  });
});
