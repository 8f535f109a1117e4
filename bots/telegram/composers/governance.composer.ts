import { Composer } from 'grammy';
import { runAction } from '../../core/dispatch.ts';
import { parseAction } from '../../core/reply.ts';
import type { TelegramContext } from '../context.ts';
import { coreContext } from '../core-context.ts';

// Yes / No / Abstain under a proposal posted in the governance chat (bots/telegram/announce.ts).
// A vote is personal, so nothing is said in the chat: the presser's linked account votes through
// the shared `vote` action, the answer (or "link first") comes back as an alert only the presser
// sees, and the announcer edits the message's tally. Vote buttons anywhere else are the core
// composer's (private chats only).

export const governanceComposer = new Composer<TelegramContext>();

governanceComposer.on('callback_query:data', async (ctx, next) => {
  const chat = ctx.deps.config.TELEGRAM_GOVERNANCE_CHAT_ID;
  const message = ctx.callbackQuery.message;
  if (!chat || !message || String(message.chat.id) !== chat || parseAction(ctx.callbackQuery.data).name !== 'vote') return next();
  const { reply } = await runAction(ctx.callbackQuery.data, coreContext(ctx));
  const text = [reply.title, reply.blocks[0]].filter(Boolean).join(': ');
  // answerCallbackQuery takes at most 200 characters.
  await ctx.answerCallbackQuery({ text: text.length > 200 ? `${text.slice(0, 199)}…` : text, show_alert: true });
});
