import { Composer, InputFile } from 'grammy';
import { actionSpec, findCommand, runAction, runCommand } from '../../core/dispatch.ts';
import { actionAllowed, type ChatType } from '../chat-policy.ts';
import { COMMANDS } from '../../core/commands/index.ts';
import type { CommandSpec } from '../../core/command.ts';
import { parseCommandArgs } from '../command-args.ts';
import type { TelegramContext } from '../context.ts';
import { coreContext } from '../core-context.ts';
import { renderReply } from '../render.ts';

// The shared commands (bots/core) in Telegram: `/name args` is parsed against the same specs
// Discord registers, the same handler runs, and only the rendering is Telegram's. Button presses
// that are not the bot's own flows go to the shared actions.

/** Telegram names that map onto a shared command path (Telegram commands cannot have spaces). */
const ALIASES: Record<string, string[]> = { proposals: ['proposal', 'list'] };

export const coreComposer = new Composer<TelegramContext>();

const names = [...COMMANDS.filter((c) => c.name !== 'admin').map((c) => c.name), ...Object.keys(ALIASES)];

coreComposer.command(names, async (ctx) => {
  const name = (ctx.msg.text.slice(1).split(/[\s@]/)[0] ?? '').toLowerCase();
  const alias = ALIASES[name];
  let path: string[];
  let options: Record<string, string | number | boolean | undefined> = {};
  if (alias) {
    path = alias;
  } else {
    const spec = COMMANDS.find((c) => c.name === name) as CommandSpec;
    const parsed = parseCommandArgs(spec, ctx.match);
    if (!parsed.ok) {
      await ctx.reply(parsed.message);
      return;
    }
    path = parsed.path;
    options = parsed.options;
  }
  if (!findCommand(path)) return;
  const reply = await runCommand(path, coreContext(ctx, options));
  const message = renderReply(reply);
  // A picture goes first (sendPhoto, uploaded as multipart/form-data), the text with its buttons under it.
  if (reply.image) await ctx.replyWithPhoto(new InputFile(reply.image.png, reply.image.filename), { caption: reply.image.caption });
  await ctx.reply(message.text, {
    parse_mode: message.parse_mode,
    reply_markup: message.reply_markup,
    link_preview_options: message.link_preview_options,
  });
});

coreComposer.on('callback_query:data', async (ctx) => {
  const actionName = ctx.callbackQuery.data.split(':')[0] ?? '';
  const chatType = (ctx.callbackQuery.message?.chat.type ?? 'private') as ChatType;
  const personal = Boolean(actionSpec(ctx.callbackQuery.data)?.personal);
  if (!actionAllowed(actionName, chatType).allowed || (personal && chatType !== 'private')) {
    await ctx.answerCallbackQuery({ text: 'This works in a private chat with me.', show_alert: true });
    return;
  }
  const result = await runAction(ctx.callbackQuery.data, coreContext(ctx));
  const message = renderReply(result.reply);
  await ctx.answerCallbackQuery(result.reply.tone === 'error' ? { text: result.reply.blocks[0]?.slice(0, 190) } : {});
  // The pressed keyboard goes, so a finished choice cannot be pressed again by mistake.
  if (ctx.callbackQuery.message) await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
  await ctx.reply(message.text, {
    parse_mode: message.parse_mode,
    reply_markup: message.reply_markup,
    link_preview_options: message.link_preview_options,
  });
});

/** For the private-only guard: shared commands that show personal data stay out of groups. */
export function isPersonalCommand(name: string): boolean {
  const path = ALIASES[name] ?? [name];
  return Boolean(COMMANDS.find((c) => c.name === path[0])?.personal || findCommand(path)?.personal);
}
