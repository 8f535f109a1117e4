import { Bot, Composer } from 'grammy';
import { commandAllowed, type ChatType } from './chat-policy.ts';
import type { TelegramContext, TelegramDeps } from './context.ts';
import { alertsComposer } from './composers/alerts.composer.ts';
import { startComposer } from './composers/start.composer.ts';
import { rentComposer } from './composers/rent.composer.ts';
import { coreComposer, isPersonalCommand } from './composers/core.composer.ts';
import { governanceComposer } from './composers/governance.composer.ts';
import { fallbackComposer } from './composers/fallback.composer.ts';
import { telegramSettings } from './telegram-settings.ts';

/**
 * The bot for one update. Everything it needs comes in `deps` (D1, config, env, the public
 * origin); nothing is read from globals. `botInfo` and `apiRoot` come from configuration, so
 * there is no getMe, and tests point apiRoot at a local Bot API stand-in.
 */
export function createBot(token: string, deps: TelegramDeps, extra: Composer<TelegramContext>[] = []): Bot<TelegramContext> {
  const settings = telegramSettings(deps.config);
  const bot = new Bot<TelegramContext>(token, { botInfo: settings.botInfo, client: { apiRoot: settings.apiRoot } });
  bot.use((ctx, next) => {
    ctx.deps = deps;
    return next();
  });
  bot.use(privateOnlyGuard);
  // The fallback last: it answers only what nothing else did.
  bot.use(startComposer, rentComposer, alertsComposer, governanceComposer, coreComposer, ...extra, fallbackComposer);
  bot.catch(async (err) => {
    console.error('telegram update failed', err.error);
    try {
      await err.ctx.reply('Something went wrong on our side; nothing was changed. Try again in a moment.');
    } catch (replyError) {
      console.error('could not report the failure to the chat', replyError);
    }
  });
  return bot;
}

/** Money-moving, secret-revealing and personal commands answer only in a private chat. */
const privateOnlyGuard = new Composer<TelegramContext>();
privateOnlyGuard.on('message:entities:bot_command', async (ctx, next) => {
  const text = ctx.msg.text ?? '';
  const entity = ctx.msg.entities.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (!entity) return next();
  const [name = '', target] = text.slice(1, entity.length).toLowerCase().split('@');
  if (target && target !== ctx.me.username.toLowerCase()) return; // addressed to another bot
  const chatType = ctx.chat.type as ChatType;
  const decision = commandAllowed(name, chatType);
  if (decision.allowed && (chatType === 'private' || !isPersonalCommand(name))) return next();
  if (!decision.allowed && decision.reason === 'channel') return;
  await ctx.reply(`/${name} works in a private chat with me, so nothing personal lands in a group.`, {
    reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true },
    reply_markup: { inline_keyboard: [[{ text: 'Open a private chat', url: `https://t.me/${ctx.me.username}?start=${name}` }]] },
  });
});
