import { webhookCallback } from 'grammy';
import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../../workers/app-env.ts';
import { AppError } from '../../workers/errors.ts';
import { parseJsonBytes, readRawBody, validate } from '../../workers/http/body.ts';
import { timingSafeEqualStrings } from '../../workers/lib/timing-safe.ts';
import { botOps } from '../core/bot-ops.ts';
import { createBot } from './bot.ts';
import type { TelegramDeps } from './context.ts';
import { telegramSettings } from './telegram-settings.ts';
import { telegramRepo } from './telegram.repo.ts';

export const SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';

/** Only the id is checked here; grammY reads the rest of the update. */
const updateEnvelope = z.object({ update_id: z.number().int().nonnegative() }).loose();

/**
 * POST /telegram/webhook, in this order: the secret header (401, nothing read or written), the
 * body (size, JSON, update_id), the claim on update_id (a repeat is acknowledged and dropped),
 * then grammY's webhookCallback runs the bot. If the bot fails before finishing, the claim is
 * given back and Telegram gets a 500, so its retry is handled.
 */
export const telegramApp = new Hono<AppEnv>().post('/webhook', async (c) => {
  const settings = telegramSettings(c.var.config);
  const header = c.req.header(SECRET_HEADER);
  if (header === undefined || !(await timingSafeEqualStrings(header, settings.webhookSecret))) {
    throw new AppError(401, 'unauthorized', 'The Telegram secret token is missing or wrong.');
  }
  const update = validate(updateEnvelope, parseJsonBytes(await readRawBody(c)));
  const repo = telegramRepo(c.var.db);
  if (!(await repo.claimUpdate(update.update_id, Date.now()))) return c.json({ ok: true, duplicate: true });

  const defer = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
  const deps: TelegramDeps = {
    ops: botOps({ db: c.var.db, config: c.var.config, env: c.env, defer }),
    repo,
    config: c.var.config,
    origin: c.var.config.PUBLIC_BASE_URL ?? new URL(c.req.url).origin,
    defer,
  };
  const bot = createBot(settings.token, deps);
  const handle = webhookCallback(bot, 'hono', {
    secretToken: settings.webhookSecret,
    onTimeout: 'throw',
    timeoutMilliseconds: c.var.config.TELEGRAM_HANDLER_TIMEOUT_MS,
  });
  try {
    return await handle(c);
  } catch (error) {
    await repo.releaseUpdate(update.update_id);
    throw error;
  }
});
