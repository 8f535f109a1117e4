import type { LinkPlatform } from '../../db/schema.ts';
import type { LinkTokenStatus } from '../accounts/link-token-status.ts';
import { chatUserLabel } from '../accounts/links.ts';
import { formatTime } from '../explorer/pages/format.ts';
import { h, type Html } from '../explorer/pages/html.ts';
import type { Document } from '../explorer/pages/layout.ts';
import { LINK_SCRIPT } from './link-script.ts';

// The wallet page (`/link`): a bot's link token ties the sign-in to a Telegram or Discord user;
// without one it is a plain sign-in that hands out an API key. The page is complete as served
// except for the wallet part, which needs the script; nothing is signed without a click.

export const WHY_LINE =
  'You sign a one-time sign-in message; it moves no funds and costs no fee. It proves this wallet is yours so gridplane can link it to your chat account.';

const WHY_LINE_SIGN_IN =
  'You sign a one-time sign-in message; it moves no funds and costs no fee. It proves this wallet is yours so gridplane can give you an API key for it.';

const INSTALLS = [
  { name: 'Phantom', url: 'https://phantom.com/' },
  { name: 'Solflare', url: 'https://solflare.com/' },
  { name: 'Backpack', url: 'https://backpack.app/' },
];

export const platformName = (p: LinkPlatform) => (p === 'telegram' ? 'Telegram' : 'Discord');

export interface LinkPageInput {
  /** The link token and what it links; absent for a plain sign-in. */
  link?: { token: string; platform: LinkPlatform; platformUserId: string; platformUserName: string | null; expiresAt: number };
  cluster: string;
}

export function linkPage({ link, cluster }: LinkPageInput): Document {
  const chat = link ? platformName(link.platform) : null;
  const intro = chat
    ? h`<h1>Link your wallet to ${chat}</h1><p class="lede" id="link-who">Link ${chatUserLabel(link!.platform, link!.platformUserId, link!.platformUserName)} to this wallet. The gridplane bot sent this link to that account: if it is not yours, stop here. Sign in with your Solana wallet, then confirm the link in ${chat} with the bot's Confirm button; from then on you can rent GPUs, stake and vote from the chat.</p>`
    : h`<h1>Sign in with your wallet</h1><p class="lede">Sign in with your Solana wallet to get an API key for the gridplane command line and HTTP API.</p>`;
  const body = h`<div class="link-page" id="link-app" data-token="${link?.token ?? ''}" data-cluster="${cluster}" aria-busy="false">
${intro}
<p class="why" id="why">${chat ? WHY_LINE : WHY_LINE_SIGN_IN}</p>
<section class="panel" id="choose" aria-labelledby="choose-h"><h2 id="choose-h">Choose your wallet</h2>
<p id="wallets-looking" class="muted">Looking for wallets in this browser…</p>
<ul id="wallet-list" class="wallets" aria-labelledby="choose-h" hidden></ul>
<div id="no-wallet" hidden><p>No Solana wallet was found in this browser. Install one of these, then reload this page:</p>
<ul class="installs">${INSTALLS.map((w) => h`<li><a href="${w.url}" rel="noopener noreferrer">${w.name}</a></li>`)}</ul>
<p class="muted">On a phone, open this page in your wallet app's own browser.</p></div>
<noscript><p>This page needs JavaScript to talk to your wallet. Nothing else runs here and nothing is loaded from elsewhere.</p></noscript>
</section>
<p id="progress" class="progress muted" role="status" aria-live="polite"></p>
<p id="error" class="error" role="alert" hidden></p>
<section class="panel" id="sign" aria-labelledby="sign-h" hidden><h2 id="sign-h">The message your wallet asks you to sign</h2>
<p class="muted">Check that it names this site and your wallet address before you approve.</p>
<pre id="message" class="message" tabindex="0" aria-labelledby="sign-h"></pre></section>
<section class="panel done" id="done" aria-labelledby="done-h" tabindex="-1" hidden><h2 id="done-h">Signed in</h2><p id="done-text"></p>
<div id="key"><h3>Your API key</h3>
<p class="warn">It is shown once, now: copy it and keep it secret. gridplane keeps only a fingerprint of it and cannot show it again.</p>
<div class="keyrow"><code id="key-value"></code><button type="button" class="copy" id="copy">Copy key</button></div>
<p id="copy-status" class="muted" role="status" aria-live="polite"></p></div></section>
${link ? h`<p class="muted" id="link-expiry">This link works once and expires at <time class="nowrap" datetime="${new Date(link.expiresAt).toISOString()}">${formatTime(link.expiresAt)}</time>.</p>` : null}
</div>`;
  return {
    title: chat ? `Link your wallet to ${chat} · gridplane` : 'Sign in with your wallet · gridplane',
    description: chat ? `Link a Solana wallet to your ${chat} account on gridplane.` : 'Sign in to gridplane with a Solana wallet.',
    body,
    script: LINK_SCRIPT,
  };
}

/** The page for a link that cannot be used, with what to do instead. */
export function linkProblemPage(status: Exclude<LinkTokenStatus, { state: 'usable' }>): Document {
  const chat = 'platform' in status ? platformName(status.platform) : 'Telegram or Discord';
  const again = h`Send <code>/link</code> to the gridplane bot in ${chat} for a new one.`;
  let heading: string;
  let text: Html;
  switch (status.state) {
    case 'expired':
      heading = 'This link has expired';
      text = h`Links from the bot work for 15 minutes. ${again}`;
      break;
    case 'used':
      heading = 'This link was already used';
      text = h`A link works once. If you signed in with it, your ${chat} account is linked already. To link another wallet, ${again}`;
      break;
    case 'unknown':
    case 'malformed':
      heading = 'This link is not valid';
      text = h`Check that you opened the whole link the bot sent you. ${again}`;
      break;
  }
  return {
    title: `${heading} · gridplane`,
    description: heading,
    body: h`<div class="link-page"><h1>${heading}</h1><p>${text}</p><p>Only want an API key? <a href="/link">Sign in without a chat account</a>.</p></div>`,
  };
}
