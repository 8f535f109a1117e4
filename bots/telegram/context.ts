import type { Context } from 'grammy';
import type { BotDeps } from '../core/command.ts';
import type { TelegramRepo } from './telegram.repo.ts';

/**
 * What the bot gets from the Worker for one update: the shared layer's BotDeps (the domain's
 * operations, config, origin, defer) and the bot's own tables (telegram.repo.ts). No D1, no env.
 */
export interface TelegramDeps extends BotDeps {
  repo: TelegramRepo;
}

/** grammY's context plus the Worker's dependencies, set once per update by createBot. */
export type TelegramContext = Context & { deps: TelegramDeps };

export const chatIdOf = (ctx: Context) => String(ctx.chat?.id ?? ctx.from?.id ?? '');
export const userIdOf = (ctx: Context) => String(ctx.from?.id ?? '');
