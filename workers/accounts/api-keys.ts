import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { accounts, apiKeys } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { randomSecret } from '../lib/ids.ts';
import { sha256Hex } from '../protocol/signed-request.ts';

// API keys: `gpk_` + 43 base64url characters (256 random bits). Shown once; only the SHA-256 is
// stored, so a leaked database does not leak keys. A fast hash is right here: the key is random,
// not a password, so there is nothing to brute-force.

export const API_KEY_PATTERN = /^gpk_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12;
const TOUCH_INTERVAL_MS = 60 * 60 * 1000;

export const hashApiKey = (key: string) => sha256Hex(new TextEncoder().encode(key));

export async function issueApiKey(db: Db, accountId: string, origin: 'siws' | 'dev', nowMs = Date.now()): Promise<string> {
  const key = `gpk_${randomSecret(32)}`;
  await db.insert(apiKeys).values({ hash: await hashApiKey(key), prefix: key.slice(0, PREFIX_LENGTH), accountId, origin, createdAt: nowMs });
  return key;
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
    .select({ accountId: apiKeys.accountId, wallet: accounts.wallet, keyHash: apiKeys.hash, keyPrefix: apiKeys.prefix, lastUsedAt: apiKeys.lastUsedAt })
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
