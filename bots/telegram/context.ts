import type { Context } from 'grammy';
import type { Db } from '../../workers/app-env.ts';
import type { BotOps } from '../core/bot-ops.ts';
import type { Config } from '../../workers/config.ts';
import type { Env } from '../../workers/env.ts';

/** What the bot gets from the Worker for one update; the same shape as the shared layer's BotDeps. */
export interface TelegramDeps {
  ops: BotOps;
  db: Db;
  config: Config;
  env: Env;
  /** The Worker's public origin, for links (`/link?token=…`). */
  origin: string;
  defer(promise: Promise<unknown>): void;
}

/** grammY's context plus the Worker's dependencies, set once per update by createBot. */
export type TelegramContext = Context & { deps: TelegramDeps };

export const chatIdOf = (ctx: Context) => String(ctx.chat?.id ?? ctx.from?.id ?? '');
export const userIdOf = (ctx: Context) => String(ctx.from?.id ?? '');
