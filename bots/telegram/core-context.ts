import type { Context } from 'grammy';
import type { BotContext, OptionValue } from '../core/command.ts';
import { makeContext } from '../core/dispatch.ts';
import type { TelegramContext } from './context.ts';

/**
 * The shared layer's context for this Telegram update. Admin commands stay Discord-only.
 * `eventId` defaults to the update id (Telegram re-sends an update with the same id), so keys
 * built from it survive a retry; a guided flow passes its own id instead.
 */
export function coreContext(
  ctx: TelegramContext,
  options: Record<string, OptionValue | undefined> = {},
  eventId = updateEventId(ctx),
): BotContext {
  return makeContext(ctx.deps, {
    platform: 'telegram',
    user: { id: String(ctx.from?.id ?? ''), name: displayName(ctx) },
    isAdmin: false,
    options,
    eventId,
  });
}

export const updateEventId = (ctx: Context) => `u${ctx.update.update_id.toString(36)}`;

function displayName(ctx: Context): string {
  const from = ctx.from;
  if (!from) return 'someone';
  return from.username ? `@${from.username}` : [from.first_name, from.last_name].filter(Boolean).join(' ');
}
