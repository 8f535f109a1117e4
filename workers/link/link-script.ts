// The link page's only script, inline (its hash is in the CSP). It is the app side of the Wallet
// Standard, which is small enough to write out: the page announces itself with
// `wallet-standard:app-ready` carrying `{ register }`, and wallets that load later announce
// themselves with `wallet-standard:register-wallet` carrying a callback to hand that object to.
// A wallet is listed when it can connect, sign a message and names a Solana chain. Then:
// connect → challenge (with the link token) → show the exact text → signMessage → verify.
// Everything a wallet or the server says goes in through textContent; icons only as data: images.

export const LINK_SCRIPT = `(() => {
'use strict';
const d = document;
const root = d.getElementById('link-app');
if (!root) return;
const $ = (id) => d.getElementById(id);
const token = root.dataset.token || '';
const cluster = root.dataset.cluster || 'mainnet';
const platformName = (p) => (p === 'telegram' ? 'Telegram' : p === 'discord' ? 'Discord' : 'chat');
const list = $('wallet-list'), looking = $('wallets-looking'), none = $('no-wallet');
const progress = $('progress'), errorBox = $('error');
const wallets = [];
let busy = false;
let finished = false;

const ICON = /^data:image\\/(svg\\+xml|webp|png|gif);base64,[A-Za-z0-9+\\/]+=*$/;
function usable(w) {
  try {
    const f = w && w.features;
    return typeof w.name === 'string' && w.name.length > 0 && !!f && !!f['standard:connect'] && !!f['solana:signMessage'] &&
      Array.isArray(w.chains) && w.chains.some((c) => typeof c === 'string' && c.startsWith('solana:'));
  } catch (e) {
    return false;
  }
}

function register(...added) {
  for (const w of added) {
    if (!usable(w) || wallets.some((x) => x.wallet === w)) continue;
    wallets.push({ wallet: w, item: button(w) });
  }
  showWallets();
  return () => {
    for (const w of added) {
      const i = wallets.findIndex((x) => x.wallet === w);
      if (i >= 0) wallets.splice(i, 1)[0].item.remove();
    }
    showWallets();
  };
}

function button(w) {
  const li = d.createElement('li');
  const b = d.createElement('button');
  b.type = 'button';
  b.className = 'wallet';
  if (typeof w.icon === 'string' && ICON.test(w.icon)) {
    const img = d.createElement('img');
    img.src = w.icon;
    img.alt = '';
    img.width = 28;
    img.height = 28;
    b.append(img);
  }
  const label = d.createElement('span');
  label.textContent = w.name;
  b.append(label);
  b.disabled = busy;
  b.addEventListener('click', () => signInWith(w));
  li.append(b);
  list.append(li);
  return li;
}

let searched = false;
function showWallets() {
  if (finished) return;
  list.hidden = wallets.length === 0;
  looking.hidden = wallets.length > 0 || searched;
  none.hidden = wallets.length > 0 || !searched;
}

const api = Object.freeze({ register, get: () => wallets.map((x) => x.wallet), on: () => () => {} });
window.addEventListener('wallet-standard:register-wallet', (event) => {
  try {
    event.detail(api);
  } catch (e) {}
});
try {
  window.dispatchEvent(new CustomEvent('wallet-standard:app-ready', { detail: api }));
} catch (e) {}
// Injected wallets answer app-ready at once; give slower extensions a moment before saying none.
setTimeout(() => {
  searched = true;
  showWallets();
}, 1000);

function say(text) {
  progress.textContent = text;
}
function fail(text) {
  const e = new Error(text);
  e.forPerson = true;
  return e;
}
function showError(e) {
  say('');
  errorBox.textContent = e && e.forPerson ? e.message : 'Something went wrong on this page. Nothing was linked; reload it and try again.';
  errorBox.hidden = false;
}
const declined = (e) => !!e && (e.code === 4001 || /reject|declin|denied|cancel/i.test(String(e.message || e.name || e)));
const why = (e) => String((e && e.message) || e || 'no reason given').slice(0, 160);
function base64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function setBusy(on) {
  busy = on;
  for (const b of list.querySelectorAll('button')) b.disabled = on;
  root.setAttribute('aria-busy', on ? 'true' : 'false');
}

function explain(code, message) {
  switch (code) {
    case 'link_token_invalid':
      return 'This link has expired or was already used. Send /link to the bot again for a new one.';
    case 'wrong_chain':
      return 'The wallet signed for another Solana network. This gridplane runs on ' + cluster + ': switch your wallet to ' + cluster + ' and try again.';
    case 'wrong_domain':
      return 'The sign-in message was made for another site. Open the link the bot sent you and try again.';
    case 'message_expired':
    case 'nonce_invalid':
      return 'The sign-in request ran out of time. Choose your wallet to start again.';
    case 'bad_signature':
      return 'The signature does not match the wallet address. Try again, or choose another wallet.';
    default:
      return (message || 'gridplane could not complete the sign-in.') + ' Nothing was linked.';
  }
}

async function post(path, body) {
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  } catch (e) {
    throw fail('gridplane could not be reached. Check your connection and try again.');
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {}
  if (res.ok && data) return data;
  const error = (data && data.error) || {};
  throw fail(explain(error.code, error.message));
}

async function signInWith(w) {
  if (busy || finished) return;
  setBusy(true);
  errorBox.hidden = true;
  const name = w.name;
  try {
    say('Asking ' + name + ' to connect…');
    let account;
    try {
      const out = await w.features['standard:connect'].connect();
      const accounts = (out && out.accounts && out.accounts.length ? out.accounts : w.accounts) || [];
      account = accounts.find((a) => !Array.isArray(a.chains) || a.chains.some((c) => String(c).startsWith('solana:'))) || accounts[0];
    } catch (e) {
      throw fail(declined(e) ? 'You declined the connection in ' + name + '. Nothing was linked; choose a wallet to try again.' : name + ' could not connect (' + why(e) + '). Nothing was linked.');
    }
    if (!account || typeof account.address !== 'string') throw fail(name + ' did not share a Solana account. Unlock it, choose an account and try again.');

    say('Preparing the sign-in message…');
    const challenge = await post('/v1/auth/siws/challenge', token ? { address: account.address, linkToken: token } : { address: account.address });
    $('message').textContent = challenge.message;
    $('sign').hidden = false;
    say('Check the message in ' + name + ' and approve it.');

    let signature;
    try {
      const outputs = await w.features['solana:signMessage'].signMessage({ account, message: new TextEncoder().encode(challenge.message) });
      const first = Array.isArray(outputs) ? outputs[0] : outputs;
      signature = first && first.signature ? new Uint8Array(first.signature) : null;
    } catch (e) {
      throw fail(declined(e) ? 'You declined to sign in ' + name + '. Nothing was linked; choose a wallet to try again.' : name + ' could not sign the message (' + why(e) + '). Nothing was linked.');
    }
    if (!signature || signature.length !== 64) throw fail(name + ' gave back no usable signature. Nothing was linked; try again or choose another wallet.');

    say('Checking the signature…');
    const result = await post('/v1/auth/siws/verify', { message: challenge.message, signature: base64(signature) });
    finish(result);
  } catch (e) {
    showError(e);
  } finally {
    setBusy(false);
  }
}

function finish(result) {
  finished = true;
  say('');
  $('choose').hidden = true;
  $('sign').hidden = true;
  const expiry = $('link-expiry');
  if (expiry) expiry.hidden = true;
  if (result.linked) {
    $('done-h').textContent = 'Now confirm in ' + platformName(result.linked.platform);
    $('done-text').textContent = 'Wallet ' + result.wallet + ' signed in. Go back to ' + platformName(result.linked.platform) + ' and press Confirm link under the bot’s message: the link takes effect when you confirm it there.';
  } else {
    $('done-h').textContent = 'Signed in';
    $('done-text').textContent = 'You are signed in with wallet ' + result.wallet + (result.created ? ', as a new gridplane account.' : '.');
  }
  $('key-value').textContent = result.apiKey;
  const done = $('done');
  done.hidden = false;
  done.focus();
}

$('copy').addEventListener('click', async () => {
  const code = $('key-value');
  const note = $('copy-status');
  try {
    await navigator.clipboard.writeText(code.textContent);
    note.textContent = 'Copied.';
  } catch (e) {
    const range = d.createRange();
    range.selectNodeContents(code);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    note.textContent = 'This browser blocked copying: the key is selected, copy it with your keyboard or menu.';
  }
});
})();`;
