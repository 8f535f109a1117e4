import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { linkTelegram, say } from './helpers/operator.ts';
import { chainWorld, devAccount, newChainWallet, pay, runCron } from './helpers/solana.ts';
import { botCalls, freshChatId, messageUpdate, postUpdate, sentTo } from './helpers/telegram.ts';
import { scanQrPng } from '../support/qr-png-read.ts';
import type { RecordedFile } from './setup/telegram-api.ts';
import { getWithKey } from './helpers/wallet.ts';

// /deposit in Telegram: the same Solana Pay request the deposits route hands out, made for the
// linked account, paid on the litesvm chain and credited by the settlement cron.

const TOKEN = 1_000_000n;
const unescapeHtml = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('/deposit in Telegram', () => {
  it('hands out a Solana Pay request for the linked account that the cron credits once paid', async () => {
    const world = await chainWorld();
    const account = await devAccount();
    const chatId = await linkTelegram(account.accountId);

    const text = unescapeHtml(await say({ chatId }, '/deposit 2.5'));
    expect(text).toContain('<b>Deposit 2.500000 tokens</b>');
    const url = /solana:\S+/.exec(text)?.[0];
    const reference = /<b>Reference:<\/b> (\S+)/.exec(text)?.[1];
    expect(reference).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(url).toBe(
      `solana:${world.treasury}?amount=2.5&spl-token=${world.mint}&reference=${reference}&label=gridplane&message=Deposit%20to%20your%20gridplane%20balance`,
    );
    expect(text).toContain(`<b>Token account:</b> ${world.treasuryTokenAccount}`);
    expect(text).toMatch(/<b>Watched until:<\/b> (\d{1,2} \w{3} )?\d\d:\d\d UTC \(in \d+ (min|h|days?)\)/);
    // The QR code came first, as an uploaded photo (multipart/form-data), and scans to the same URL.
    const [photo] = await botCalls({ chatId, method: 'sendPhoto' });
    expect(photo!.body.caption).toBe('Scan with your wallet to pay this deposit request (Solana Pay).');
    const file = photo!.body.photo as RecordedFile;
    expect(file).toMatchObject({ filename: 'deposit.png' });
    expect(photo!.seq).toBeLessThan((await sentTo(chatId)).at(-1)!.seq);
    expect(await scanQrPng(Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0)))).toBe(url);
    // The tappable link: a web page (buttons take only web URLs) whose link opens the wallet.
    const markup = (await sentTo(chatId)).at(-1)!.body.reply_markup as { inline_keyboard: { text: string; url?: string }[][] };
    const open = markup.inline_keyboard.flat().find((b) => b.text === 'Open in wallet')!;
    expect(new URL(open.url!).pathname).toBe(`/pay/${reference}`);
    const pagePath = new URL(open.url!).pathname;
    const page = await exports.default.fetch(new Request(`https://gridplane.test${pagePath}`));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain(`<a href="${url!.replace(/&/g, '&amp;')}">Open in your wallet</a>`);
    expect(html).toContain('<h1>Deposit 2.500000 tokens to gridplane</h1>');
    const image = await exports.default.fetch(new Request(`https://gridplane.test${pagePath}/qr.png`));
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(await scanQrPng(new Uint8Array(await image.arrayBuffer()))).toBe(url);
    expect((await exports.default.fetch(new Request('https://gridplane.test/pay/11111111111111111111111111111111'))).status).toBe(404);
    const stored = await env.DB.prepare('SELECT account_id, expected_amount, status FROM deposit_references WHERE reference = ?')
      .bind(reference)
      .first<{ account_id: string; expected_amount: number; status: string }>();
    expect(stored).toEqual({ account_id: account.accountId, expected_amount: 2_500_000, status: 'open' });

    const wallet = await newChainWallet({ tokens: 10n * TOKEN });
    const payment = await pay(wallet, (5n * TOKEN) / 2n, { reference });
    expect(payment.landed).toBe(true);
    await runCron();
    const balance = (await (await getWithKey('/v1/accounts/me/balance', account.apiKey)).json()) as { balance: string };
    expect(balance.balance).toBe('2.500000');
    expect(unescapeHtml(await say({ chatId }, '/balance'))).toContain('2.500000 tokens available.');
    // Paid: the page says so, and points to a new request.
    const used = await exports.default.fetch(new Request(`https://gridplane.test/pay/${reference}`));
    expect(used.status).toBe(410);
    expect(await used.text()).toContain('This deposit request was paid. Send /deposit in the chat for a new one.');
  });

  it('explains bad amounts, asks to link first, and stays out of groups', async () => {
    const account = await devAccount();
    const chatId = await linkTelegram(account.accountId);
    expect(await say({ chatId }, '/deposit -3')).toMatch(/Give the amount in tokens/);
    expect(await say({ chatId: freshChatId() }, '/deposit')).toMatch(/Link your wallet first/);
    const refs = await env.DB.prepare('SELECT count(*) AS n FROM deposit_references WHERE account_id = ?')
      .bind(account.accountId)
      .first<{ n: number }>();
    expect(refs!.n).toBe(0);

    const groupId = -freshChatId();
    expect((await postUpdate(messageUpdate('/deposit 5', { chatId: groupId, userId: chatId, type: 'group' }))).status).toBe(200);
    const [answer] = await sentTo(groupId);
    expect(String(answer!.body.text)).toBe('/deposit works in a private chat with me, so nothing personal lands in a group.');
    const after = await env.DB.prepare('SELECT count(*) AS n FROM deposit_references WHERE account_id = ?')
      .bind(account.accountId)
      .first<{ n: number }>();
    expect(after!.n).toBe(0);
  });
});
