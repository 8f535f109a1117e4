import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { validate } from '../http/body.ts';
import { API_KEY_PREFIX_PATTERN, listLiveApiKeys, revokeApiKeyByPrefix, type ApiKeyRow } from './api-keys.ts';
import { requireAccount } from './require-account.ts';

// The signed-in account's API keys, mounted at /v1/accounts/me/api-keys: list the live ones and
// revoke one by its prefix. Keys are issued only by signing in (siws.app.ts) or, outside
// production, POST /v1/dev/accounts; the cap on live keys is applied there (api-keys.ts).

const prefixSchema = z
  .string()
  .regex(API_KEY_PREFIX_PATTERN, 'must be a key prefix as GET /v1/accounts/me/api-keys lists it: gpk_ and 8 characters');

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Never the hash: the prefix tells keys apart; `current` marks the key this request came with. */
const keyView = (row: ApiKeyRow, currentHash: string) => ({
  prefix: row.prefix,
  origin: row.origin,
  createdAt: iso(row.createdAt)!,
  /** Recorded at most once an hour per key. */
  lastUsedAt: iso(row.lastUsedAt),
  current: row.hash === currentHash,
});

export const apiKeysApp = new Hono<AppEnv>()
  .use(requireAccount)

  .get('/', async (c) => {
    const me = c.var.account;
    const rows = await listLiveApiKeys(c.var.db, me.id);
    return c.json({ apiKeys: rows.map((r) => keyView(r, me.keyHash)), limit: c.var.config.API_KEYS_PER_ACCOUNT });
  })

  .delete('/:prefix', async (c) => {
    const me = c.var.account;
    const prefix = validate(z.object({ prefix: prefixSchema }), { prefix: c.req.param('prefix') }).prefix;
    const now = Date.now();
    const rows = await revokeApiKeyByPrefix(c.var.db, me.id, prefix, now);
    // Another account's key answers exactly as an unknown one: a prefix says nothing about whose it is.
    if (!rows[0]) throw new AppError(404, 'not_found', `This account has no live API key ${prefix}.`);
    const { current: _, ...view } = keyView(rows[0], me.keyHash);
    return c.json({
      revoked: { ...view, revokedAt: iso(now)! },
      // True when the key this request came with was revoked: from now on it gets 401.
      current: rows.some((r) => r.hash === me.keyHash),
    });
  });
