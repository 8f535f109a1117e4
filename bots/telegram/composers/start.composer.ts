import { Composer } from 'grammy';
import type { TelegramContext } from '../context.ts';

const HELP = [
  'gridplane: rent GPUs near you, run a node, stake and vote — from this chat.',
  '',
  'Anywhere: /nodes, /status <node>, /proposals, /help',
  'Private chat: /link (connect your wallet), /balance, /deposit, /rent (GPUs, a notebook, a chat model, a shell), /endpoints, /jobs, /job <id>, /cancel <id>, /mynodes, /stake, /unstake, /rewards, /vote',
  'Operators: /alerts — node offline, failed jobs, slashes, payouts, quiet hours.',
].join('\n');

/** /start (with an optional deep-link payload from a group's "open a private chat" button) and /help. */
export const startComposer = new Composer<TelegramContext>();

startComposer.command('help', (ctx) => ctx.reply(HELP));

startComposer.command('start', async (ctx) => {
  const payload = ctx.match.trim();
  if (payload && /^[a-z]{2,20}$/.test(payload)) {
    await ctx.reply(`Send /${payload} here to continue.`);
    return;
  }
  await ctx.reply(`Welcome!\n\n${HELP}`);
});
