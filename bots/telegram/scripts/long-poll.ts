// `npm run telegram:poll`: local development without a public URL. Long-polls the Bot API
// (which removes any webhook) and relays each update to the local Worker's webhook route with the
// secret header, so the bot that answers is exactly the one deployed: same route, same claims,
// same D1. Run `npm start` in another terminal first.
//
//   TELEGRAM_BOT_TOKEN=… TELEGRAM_WEBHOOK_SECRET=… npm run telegram:poll [-- http://127.0.0.1:8787]
import { Bot } from 'grammy';
import { devVars } from './dev-vars.ts';

const vars = devVars();
const token = vars.TELEGRAM_BOT_TOKEN;
const secret = vars.TELEGRAM_WEBHOOK_SECRET;
const target = new URL('/telegram/webhook', process.argv[2] ?? 'http://127.0.0.1:8787').toString();
if (!token || !secret) {
  console.error('Set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (e.g. in .dev.vars).');
  process.exit(2);
}

const bot = new Bot(token, { client: { apiRoot: (vars.TELEGRAM_API_ROOT || 'https://api.telegram.org').replace(/\/+$/, '') } });
bot.use(async (ctx) => {
  // grammY moves past an update once this returns, so a relay that fails is retried here first.
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': secret },
        body: JSON.stringify(ctx.update),
      });
      if (res.status >= 500) throw new Error(`the Worker answered ${res.status}: ${await res.text()}`);
      console.log(`update ${ctx.update.update_id} → ${res.status}`);
      return;
    } catch (error) {
      if (attempt >= 5) throw new Error(`update ${ctx.update.update_id} dropped after ${attempt} attempts: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
});
bot.catch((err) => console.error(err.message));
process.once('SIGINT', () => void bot.stop());
process.once('SIGTERM', () => void bot.stop());
console.log(`Relaying updates to ${target} (Ctrl-C to stop).`);
await bot.start({ allowed_updates: ['message', 'callback_query'], drop_pending_updates: false });
