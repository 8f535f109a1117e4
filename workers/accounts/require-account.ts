import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { authenticating, spend, spendAddress } from '../limits/rate-limit.ts';
import { findKeyOwner, needsTouch, touchApiKey } from './api-keys.ts';

/** `Authorization: Bearer <api key>` → `c.var.account`; 401 `unauthorized` otherwise. */
/** Counted per account once the key checks out; a failed attempt counts against the client's address. */
export const requireAccount = authenticating(
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const key = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const owner = key ? await findKeyOwner(c.var.db, key) : null;
    if (!owner) {
      await spendAddress(c);
      throw new AppError(
        401,
        'unauthorized',
        'This route needs an API key: sign in with your wallet and send Authorization: Bearer <api key>.',
      );
    }
    const now = Date.now();
    if (needsTouch(owner, now)) {
      const touch = touchApiKey(c.var.db, owner.keyHash, now).catch((error) => console.error('api key touch failed', error));
      try {
        c.executionCtx.waitUntil(touch);
      } catch {
        // No execution context (app.fetch called without one): the promise runs on its own.
      }
    }
    await spend(c, 'account', `account:${owner.accountId}`);
    c.set('account', { id: owner.accountId, wallet: owner.wallet, keyHash: owner.keyHash });
    await next();
  }),
);
