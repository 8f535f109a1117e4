import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { formatAmount } from '../lib/amounts.ts';
import { dateTime } from '../lib/human-time.ts';
import { qrPng } from '../lib/qr-png.ts';
import { depositRequestOf } from './deposit-requests.ts';
import { missingSettlementNames, requireSettlement } from './settlement-env.ts';

// GET /pay/{reference}: a deposit request the chats handed out, as a web page a chat can link to.
// Telegram and Discord make only web links tappable (buttons take https URLs, a `solana:` URL in
// text is plain text), so the chats' "Open in wallet" button opens this page, whose link opens
// the wallet; GET /pay/{reference}/qr.png is the request's QR code (Discord's embed image, and
// this page's). The reference is a random key already public on chain once paid; the page shows
// the request only (no account, no balance). Unknown → 404, used or expired → 410.

const REFERENCE = '[1-9A-HJ-NP-Za-km-z]{32,44}';
const PROBLEM = {
  unknown: { status: 404, text: 'There is no deposit request with this reference.' },
  used: { status: 410, text: 'This deposit request was paid. Send /deposit in the chat for a new one.' },
  expired: { status: 410, text: 'This deposit request expired. Send /deposit in the chat for a new one.' },
} as const;

export const payPageApp = new Hono<AppEnv>()
  .get(`/:reference{${REFERENCE}}/qr.png`, async (c) => {
    const found = await lookUp(c);
    if (found instanceof Response) return found;
    headers(c);
    return c.body((await qrPng(found.instructions.url)) as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'image/png' });
  })
  .get(`/:reference{${REFERENCE}}`, async (c) => {
    const found = await lookUp(c);
    if (found instanceof Response) return found;
    const { instructions, expectedAmount, expiresAt } = found;
    const d = c.var.config.TOKEN_DECIMALS;
    const what = expectedAmount === null ? 'Deposit tokens to gridplane' : `Deposit ${formatAmount(expectedAmount, d)} tokens to gridplane`;
    headers(c);
    return c.html(
      page(what, [
        `<p><a href="${esc(instructions.url)}">Open in your wallet</a> (Solana Pay), or scan:</p>`,
        `<p><img src="${esc(instructions.reference)}/qr.png" alt="QR code of the payment request" width="300" height="300"></p>`,
        '<p>A wallet without Solana Pay can send the tokens to the token account below and add the reference as a read-only account.</p>',
        `<p>Token account: <code>${esc(instructions.tokenAccount)}</code><br>Mint: <code>${esc(instructions.mint)}</code><br>Reference: <code>${esc(instructions.reference)}</code></p>`,
        expiresAt === null ? '' : `<p>Watched until ${esc(dateTime(expiresAt))}.</p>`,
      ]),
    );
  });

async function lookUp(c: Context<AppEnv>) {
  if (missingSettlementNames(c.env).length > 0) return problem(c, 404, 'Deposits are not available on this deployment.');
  const found = await depositRequestOf(c.var.db, await requireSettlement(c.env), c.req.param('reference') ?? '', Date.now());
  return found.state === 'open' ? found : problem(c, PROBLEM[found.state].status, PROBLEM[found.state].text);
}

function problem(c: Context<AppEnv>, status: 404 | 410, text: string): Response {
  headers(c);
  return c.html(page('Deposit request', [`<p>${esc(text)}</p>`]), status);
}

function headers(c: Context<AppEnv>) {
  // No script at all; the QR code is this origin's image; never cached (a request ends).
  c.header(
    'Content-Security-Policy',
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-store');
}

function page(title: string, body: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code{word-break:break-all}a{font-size:1.2rem}</style></head><body><h1>${esc(title)}</h1>${body.join('')}</body></html>`;
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
