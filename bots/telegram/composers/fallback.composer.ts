import { Composer } from 'grammy';
import type { TelegramContext } from '../context.ts';

// The last word: a message no composer answered. Telegram used to stay silent here, which reads
// as a broken bot. In a private chat an unknown command or free text gets an answer that points
// somewhere useful; in groups the bot speaks only when spoken to with a command it knows.

const POINTERS = 'Try /rent to rent GPUs, /link to connect your wallet, /balance, /jobs, or /help for everything I do.';

export const fallbackComposer = new Composer<TelegramContext>();

fallbackComposer.on('message:text', async (ctx) => {
  if (ctx.chat.type !== 'private') return;
  const text = ctx.msg.text.trim();
  const command = /^\/([A-Za-z0-9_]+)/.exec(text)?.[1];
  if (command) {
    await ctx.reply(`I don't know /${command}. ${POINTERS}`);
    return;
  }
  await ctx.reply(`I answer commands, not messages. ${POINTERS}`);
});

/** Other messages in a private chat (a photo, a sticker): the same pointers. */
fallbackComposer.on('message', async (ctx) => {
  if (ctx.chat.type !== 'private') return;
  await ctx.reply(`I only read commands. ${POINTERS}`);
});
