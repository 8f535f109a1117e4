import { and, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { accounts, apiKeys } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { randomSecret } from '../lib/ids.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';

// API keys: `gpk_` + 43 base64url characters (256 random bits). Shown once; only the SHA-256 is
// stored, so a leaked database does not leak keys. A fast hash is right here: the key is random,
// not a password, so there is nothing to brute-force.

export const API_KEY_PATTERN = /^gpk_[A-Za-z0-9_-]{43}$/;
/** What lists show and DELETE takes: `gpk_` and the key's next 8 characters (48 random bits). */
export const API_KEY_PREFIX_PATTERN = /^gpk_[A-Za-z0-9_-]{8}$/;
const PREFIX_LENGTH = 12;
const TOUCH_INTERVAL_MS = 60 * 60 * 1000;

export const hashApiKey = (key: string) => sha256Hex(new TextEncoder().encode(key));

export interface IssuedApiKey {
  apiKey: string;
  /** Prefixes of the keys this issue revoked to stay within the cap, least recently used first. */
  revokedPrefixes: string[];
}

/**
 * Issues a key and, in the same D1 batch (one transaction), revokes the account's least recently
 * used live keys beyond `maxLive` (the new key always stays). Racing issues are serialized by D1,
 * so each sees the keys the others added and the account never ends above the cap. "Recently
 * used" is last_used_at (written at most hourly), or created_at for a key never used.
 */
export async function issueApiKey(
  db: Db,
  accountId: string,
  origin: 'siws' | 'dev',
  limits: { maxLive: number; nowMs?: number },
): Promise<IssuedApiKey> {
  const nowMs = limits.nowMs ?? Date.now();
  const key = `gpk_${randomSecret(32)}`;
  const hash = await hashApiKey(key);
  const beyondCap = sql`(SELECT ranked.hash FROM (
      SELECT hash, row_number() OVER (
        ORDER BY hash = ${hash} DESC, coalesce(last_used_at, created_at) DESC, created_at DESC, hash DESC
      ) AS place
      FROM api_keys WHERE account_id = ${accountId} AND revoked_at IS NULL
    ) AS ranked WHERE ranked.place > ${limits.maxLive})`;
  const [, revoked] = await db.batch([
    db.insert(apiKeys).values({ hash, prefix: key.slice(0, PREFIX_LENGTH), accountId, origin, createdAt: nowMs }),
    db
      .update(apiKeys)
      .set({ revokedAt: nowMs })
      .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt), inArray(apiKeys.hash, beyondCap)))
      .returning({ prefix: apiKeys.prefix, lastUsedAt: apiKeys.lastUsedAt, createdAt: apiKeys.createdAt }),
  ]);
  revoked.sort((a, b) => (a.lastUsedAt ?? a.createdAt) - (b.lastUsedAt ?? b.createdAt) || a.createdAt - b.createdAt);
  return { apiKey: key, revokedPrefixes: revoked.map((r) => r.prefix) };
}

export interface KeyOwner {
  accountId: string;
  wallet: string;
  keyHash: string;
  keyPrefix: string;
  lastUsedAt: number | null;
}

/** The live (unrevoked) key's account, or null. */
export async function findKeyOwner(db: Db, key: string): Promise<KeyOwner | null> {
  if (!API_KEY_PATTERN.test(key)) return null;
  const row = await db
    .select({
      accountId: apiKeys.accountId,
      wallet: accounts.wallet,
      keyHash: apiKeys.hash,
      keyPrefix: apiKeys.prefix,
      lastUsedAt: apiKeys.lastUsedAt,
    })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .where(and(eq(apiKeys.hash, await hashApiKey(key)), isNull(apiKeys.revokedAt)))
    .get();
  return row ? { ...row, wallet: row.wallet! } : null;
}

/** Records use at most once per interval, so authentication is not a D1 write per request. */
export function needsTouch(owner: KeyOwner, nowMs: number): boolean {
  return owner.lastUsedAt === null || owner.lastUsedAt < nowMs - TOUCH_INTERVAL_MS;
}

export async function touchApiKey(db: Db, keyHash: string, nowMs: number): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: nowMs })
    .where(and(eq(apiKeys.hash, keyHash), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, nowMs - TOUCH_INTERVAL_MS))));
}

export async function revokeApiKey(db: Db, accountId: string, keyHash: string, nowMs = Date.now()): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: nowMs })
    .where(and(eq(apiKeys.hash, keyHash), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
    .returning({ hash: apiKeys.hash });
  return rows.length === 1;
}

export interface ApiKeyRow {
  hash: string;
  prefix: string;
  origin: 'siws' | 'dev';
  createdAt: number;
  lastUsedAt: number | null;
}

const rowColumns = {
  hash: apiKeys.hash,
  prefix: apiKeys.prefix,
  origin: apiKeys.origin,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** The account's live keys, newest first; no paging: issuing keeps them within API_KEYS_PER_ACCOUNT (at most 1000). */
export async function listLiveApiKeys(db: Db, accountId: string): Promise<ApiKeyRow[]> {
  return db
    .select(rowColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.hash));
}

/**
 * Revokes the account's live key with this prefix; [] when it has none (another account's key,
 * an unknown or an already revoked one). Two keys of one account sharing a prefix (48 random
 * bits) cannot be told apart in a list, so both would go.
 */
export async function revokeApiKeyByPrefix(db: Db, accountId: string, prefix: string, nowMs = Date.now()): Promise<ApiKeyRow[]> {
  return db
    .update(apiKeys)
    .set({ revokedAt: nowMs })
    .where(and(eq(apiKeys.accountId, accountId), eq(apiKeys.prefix, prefix), isNull(apiKeys.revokedAt)))
    .returning(rowColumns);
}
