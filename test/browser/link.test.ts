import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { launchChromium, openPage } from './helpers/chromium.ts';
import { addStandInWallet, newTestKey, type StandInLog, type StandInOptions } from './helpers/stand-in-wallet.ts';

// The wallet page as a person uses it: the real local control plane, a link token made as a bot
// makes one, Chromium with a stand-in wallet injected through the Wallet Standard that signs
// with a test key, through to an account whose link the API shows. Also: a wallet that declines,
// no wallet at all, a phone in dark mode, and keyboard only. Screenshots in test-output/screenshots/.

const SHOTS = join(repoRoot, 'test-output/screenshots');
const WHY =
  'You sign a one-time sign-in message; it moves no funds and costs no fee. It proves this wallet is yours so gridplane can link it to your chat account.';
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [stack, browser] = await Promise.all([startLocalStack(), launchChromium()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function linkToken(platform: 'telegram' | 'discord', userId: string): Promise<{ token: string; url: string }> {
  const res = await fetch(`${stack.url}/v1/dev/link-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ platform, userId }),
  });
  if (res.status !== 201) throw new Error(`link token: ${res.status} ${await res.text()}`);
  return (await res.json()) as { token: string; url: string };
}

const open = (path: string, wallet: StandInOptions | null, options: Parameters<Browser['newContext']>[0] = {}) =>
  openPage(browser, stack.url, path, options, wallet ? (page) => addStandInWallet(page, wallet) : undefined);

const standIn = (page: Page) => page.evaluate(() => (window as unknown as { __standIn: StandInLog }).__standIn);
const verifyResponse = (page: Page) => page.waitForResponse((r) => r.url() === `${stack.url}/v1/auth/siws/verify`);

async function me(apiKey: string) {
  const res = await fetch(`${stack.url}/v1/accounts/me`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; wallet: string; links: { platform: string; platformUserId: string }[] };
}

describe('linking a chat user with a browser wallet', () => {
  it('connects the stand-in wallet, shows and signs the exact message, and links the Telegram user', async () => {
    const key = await newTestKey();
    const { token } = await linkToken('telegram', '424242');
    const { context, page, problems } = await open(`/link?token=${token}`, { key, name: 'Stand-in Wallet' });
    expect(await page.title()).toBe('Link your wallet to Telegram · gridplane');
    expect(await page.locator('#why').textContent()).toBe(WHY);
    const button = page.getByRole('button', { name: 'Stand-in Wallet' });
    await expect(button.isVisible()).resolves.toBe(true);
    expect(await page.locator('#wallet-list img').getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    await page.screenshot({ path: join(SHOTS, 'link-light-desktop.png'), fullPage: true });

    const verified = verifyResponse(page);
    await button.click();
    const response: Response = await verified;
    expect(response.status()).toBe(200);
    const result = (await response.json()) as {
      accountId: string;
      wallet: string;
      apiKey: string;
      linked: { platform: string; platformUserId: string };
    };
    // Signed in; the link waits for the Telegram user's Confirm in chat (test/worker/link-confirmation.test.ts).
    expect(result.linked).toEqual({ platform: 'telegram', platformUserId: '424242', platformUserName: null, confirmed: false });
    expect(result.wallet).toBe(key.address);

    await page.locator('#done').waitFor({ state: 'visible' });
    expect(await page.locator('#done-h').textContent()).toBe('Now confirm in Telegram');
    expect(await page.locator('#done-text').textContent()).toBe(
      `Wallet ${key.address} signed in. Go back to Telegram and press Confirm link under the bot’s message: the link takes effect when you confirm it there.`,
    );
    expect(await page.locator('#key-value').textContent()).toBe(result.apiKey);
    expect(await page.locator('#choose').isHidden()).toBe(true);
    expect(await page.locator('#link-expiry').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('done');

    // The wallet signed exactly the text the page showed and the server issued for this token.
    const log = await standIn(page);
    expect(log.connects).toBe(1);
    expect(log.signed).toHaveLength(1);
    const signed = log.signed[0]!;
    expect(signed.split('\n').slice(0, 2)).toEqual([
      `${new URL(stack.url).host} wants you to sign in with your Solana account:`,
      key.address,
    ]);
    expect(signed).toContain('Sign in to gridplane and link Telegram user id 424242 to this wallet (confirmed in chat).');
    expect(signed).toContain(`- urn:gridplane:link:${token}`);
    expect(await page.locator('#message').textContent()).toBe(signed);
    await page.screenshot({ path: join(SHOTS, 'link-linked-light-desktop.png'), fullPage: true });

    // Through the API: the key the page showed belongs to this wallet, not linked until the chat user confirms.
    const account = await me(result.apiKey);
    expect(account).toMatchObject({ id: result.accountId, wallet: key.address });
    expect(account.links).toEqual([]);
    // And the link is spent: opening it again says so.
    const again = await fetch(`${stack.url}/link?token=${token}`);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('This link was already used');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says so when the wallet declines to sign, and links nothing', async () => {
    const key = await newTestKey();
    const { token } = await linkToken('discord', '987654321098765432');
    const { context, page, problems } = await open(`/link?token=${token}`, { key, name: 'Stand-in Wallet', rejectSigning: true });
    await page.getByRole('button', { name: 'Stand-in Wallet' }).click();
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('You declined to sign in Stand-in Wallet. Nothing was linked; choose a wallet to try again.');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.locator('#done').isHidden()).toBe(true);
    // The wallet buttons are usable again for another try.
    expect(await page.getByRole('button', { name: 'Stand-in Wallet' }).isEnabled()).toBe(true);
    expect((await standIn(page)).rejected).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'link-declined-light-desktop.png'), fullPage: true });
    await context.close();

    // Nothing was linked: the token is still unused, and a wallet that does sign can still use it.
    expect((await fetch(`${stack.url}/link?token=${token}`)).status).toBe(200);
    const retry = await open(`/link?token=${token}`, { key, name: 'Stand-in Wallet' });
    const verified = verifyResponse(retry.page);
    await retry.page.getByRole('button', { name: 'Stand-in Wallet' }).click();
    const result = (await (await verified).json()) as { apiKey: string };
    expect((await me(result.apiKey)).links).toEqual([]); // until the Discord user confirms in chat
    expect(await retry.page.locator('#done-h').textContent()).toBe('Now confirm in Discord');
    expect([...problems, ...retry.problems]).toEqual([]);
    await retry.context.close();
  });

  it('lists only Solana wallets, including one that registers after the page is ready', async () => {
    const key = await newTestKey();
    const { context, page, problems } = await open('/link', {
      key,
      name: 'Stand-in Wallet',
      lateWalletName: 'Late Wallet',
      ethereumOnlyName: 'Ether Only',
    });
    await page.getByRole('button', { name: 'Late Wallet' }).waitFor();
    const names = await page.locator('#wallet-list button').allTextContents();
    expect(names).toEqual(['Stand-in Wallet', 'Late Wallet']);
    expect(await page.locator('#no-wallet').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('explains what to install when there is no wallet, with plain links only', async () => {
    const { token } = await linkToken('telegram', '5550001');
    const { context, page, problems } = await open(`/link?token=${token}`, null, PHONE);
    await page.locator('#no-wallet').waitFor({ state: 'visible' });
    const links = page.locator('#no-wallet a');
    expect(await links.allTextContents()).toEqual(['Phantom', 'Solflare', 'Backpack']);
    expect(await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))).toEqual([
      'https://phantom.com/',
      'https://solflare.com/',
      'https://backpack.app/',
    ]);
    expect(await page.locator('#wallet-list').isHidden()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'link-no-wallet-light-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a phone in dark mode and shows the new API key once, with a copy button and the warning', async () => {
    const key = await newTestKey();
    const { context, page, problems } = await open('/link', { key, name: 'Stand-in Wallet' }, { ...PHONE, colorScheme: 'dark' });
    expect(await page.locator('h1').textContent()).toBe('Sign in with your wallet');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(15, 18, 22)');
    await page.getByRole('button', { name: 'Stand-in Wallet' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'link-dark-phone.png'), fullPage: true });

    const verified = verifyResponse(page);
    await page.getByRole('button', { name: 'Stand-in Wallet' }).tap();
    const result = (await (await verified).json()) as { apiKey: string; linked: unknown; created: boolean };
    expect(result).toMatchObject({ linked: null, created: true });
    await page.locator('#done').waitFor({ state: 'visible' });
    expect(await page.locator('#done-h').textContent()).toBe('Signed in');
    expect(await page.locator('#key-value').textContent()).toBe(result.apiKey);
    expect(await page.locator('#key .warn').textContent()).toContain('It is shown once, now');
    expect(await page.getByRole('button', { name: 'Copy key' }).isVisible()).toBe(true);
    // Nothing wider than the screen: no sideways scrolling on a phone, even with the long key.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SHOTS, 'link-signed-in-dark-phone.png'), fullPage: true });
    expect((await me(result.apiKey)).links).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('works by keyboard alone: Tab reaches the wallet, Enter signs in, focus moves to the result, Copy copies', async () => {
    const key = await newTestKey();
    const { token } = await linkToken('telegram', '7770007');
    const { context, page, problems } = await open(`/link?token=${token}`, { key, name: 'Stand-in Wallet' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    await page.getByRole('button', { name: 'Stand-in Wallet' }).waitFor();
    let presses = 0;
    while (presses < 12 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Stand-in Wallet') {
      await page.keyboard.press('Tab');
      presses++;
    }
    expect(await page.evaluate(() => document.activeElement?.classList.contains('wallet'))).toBe(true);
    // The focus ring is there to see.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).toBe('solid');
    await page.screenshot({ path: join(SHOTS, 'link-focus.png') });

    const verified = verifyResponse(page);
    await page.keyboard.press('Enter');
    const result = (await (await verified).json()) as { apiKey: string };
    await page.locator('#done').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('done');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('copy');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#copy-status').textContent()).toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(result.apiKey);
    expect((await me(result.apiKey)).links).toEqual([]); // until the Telegram user confirms in chat
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a friendly page for an expired or unknown link, without the wallet part', async () => {
    const { context, page, problems } = await open(`/link?token=lt_${'Z'.repeat(32)}`, null, { ...PHONE, colorScheme: 'dark' });
    expect(await page.locator('h1').textContent()).toBe('This link is not valid');
    expect(await page.locator('#wallet-list').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'link-invalid-dark-phone.png'), fullPage: true });
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
    await context.close();
  });
});
