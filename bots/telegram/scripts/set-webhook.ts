// `npm run telegram:webhook -- https://gridplane.example.workers.dev`: points Telegram at the
// Worker's POST /telegram/webhook with TELEGRAM_WEBHOOK_SECRET as the secret token, and sets the
// command menu. Reads TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and TELEGRAM_API_ROOT from the
// environment or .dev.vars; the public URL may also come from TELEGRAM_WEBHOOK_URL.
import { Api } from 'grammy';
import { TELEGRAM_MENU } from '../menu.ts';
import { devVars } from './dev-vars.ts';

const vars = devVars();
const token = vars.TELEGRAM_BOT_TOKEN;
const secret = vars.TELEGRAM_WEBHOOK_SECRET;
const base = process.argv[2] ?? vars.TELEGRAM_WEBHOOK_URL;
if (!token || !secret || !base) {
  console.error(
    'usage: npm run telegram:webhook -- <public URL of the Worker>\n(with TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET set, e.g. in .dev.vars)',
  );
  process.exit(2);
}
if (!/^[A-Za-z0-9_-]{16,256}$/.test(secret)) {
  console.error('TELEGRAM_WEBHOOK_SECRET must be 16–256 characters of A-Z a-z 0-9 _ - (Telegram sends it back in a header).');
  process.exit(2);
}
const url = new URL('/telegram/webhook', base).toString();
if (!url.startsWith('https://')) console.warn(`warning: Telegram only delivers to https URLs; ${url} will be refused by the real Bot API.`);

const api = new Api(token, { apiRoot: (vars.TELEGRAM_API_ROOT || 'https://api.telegram.org').replace(/\/+$/, '') });
await api.setWebhook(url, { secret_token: secret, allowed_updates: ['message', 'callback_query'], max_connections: 40 });
await api.setMyCommands(TELEGRAM_MENU);
const info = await api.getWebhookInfo();
console.log(`Webhook set: ${info.url} (pending updates: ${info.pending_update_count}); ${TELEGRAM_MENU.length} commands in the menu.`);
