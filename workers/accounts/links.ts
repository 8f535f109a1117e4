import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { accountLinks, linkTokens, type LinkPlatform } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { randomSecret } from '../lib/ids.ts';
import { sha256Hex } from '../protocol/signed-request.ts';

// Linking a Telegram or Discord user to an account. The bot calls `createLinkToken` and sends
// the user to `/link?token=…`; the page asks for a SIWS challenge with that token, which the
// message carries as a resource; a verified sign-in consumes the token and links the user.

export const LINK_TOKEN_TTL_MS = 15 * 60 * 1000;
export const LINK_TOKEN_PATTERN = /^lt_[A-Za-z0-9_-]{32}$/;

export const hashLinkToken = (token: string) => sha256Hex(new TextEncoder().encode(token));

/** A one-time token for this chat user; shown once (only its hash is stored). */
export async function createLinkToken(
  db: Db,
  platform: LinkPlatform,
  platformUserId: string,
  options: { nowMs?: number; ttlMs?: number } = {},
): Promise<{ token: string; expiresAt: number }> {
  const nowMs = options.nowMs ?? Date.now();
  const token = `lt_${randomSecret(24)}`;
  const expiresAt = nowMs + (options.ttlMs ?? LINK_TOKEN_TTL_MS);
  await db.insert(linkTokens).values({ tokenHash: await hashLinkToken(token), platform, platformUserId, createdAt: nowMs, expiresAt });
  return { token, expiresAt };
}

/** The token's hash when it can still be used (known, unused, unexpired); null otherwise. */
export async function usableLinkTokenHash(db: Db, token: string, nowMs: number): Promise<string | null> {
  if (!LINK_TOKEN_PATTERN.test(token)) return null;
  const tokenHash = await hashLinkToken(token);
  const row = await db
    .select({ tokenHash: linkTokens.tokenHash })
    .from(linkTokens)
    .where(and(eq(linkTokens.tokenHash, tokenHash), isNull(linkTokens.usedAt), gt(linkTokens.expiresAt, nowMs)))
    .get();
  return row ? row.tokenHash : null;
}

/**
 * Uses the token and links its chat user to the account, atomically: the link row is written
 * only by the batch whose UPDATE took the token. A chat user linked before moves to this account.
 */
export async function consumeLinkToken(
  db: Db,
  tokenHash: string,
  accountId: string,
  nowMs: number,
): Promise<{ platform: LinkPlatform; platformUserId: string } | null> {
  const [taken] = await db.batch([
    db
      .update(linkTokens)
      .set({ usedAt: nowMs, usedByAccountId: accountId })
      .where(and(eq(linkTokens.tokenHash, tokenHash), isNull(linkTokens.usedAt), gt(linkTokens.expiresAt, nowMs)))
      .returning({ platform: linkTokens.platform, platformUserId: linkTokens.platformUserId }),
    db
      .insert(accountLinks)
      .select(
        db
          .select({ platform: linkTokens.platform, platformUserId: linkTokens.platformUserId, accountId: sql`${accountId}`.as('account_id'), linkedAt: sql`${nowMs}`.as('linked_at') })
          .from(linkTokens)
          .where(and(eq(linkTokens.tokenHash, tokenHash), eq(linkTokens.usedAt, nowMs), eq(linkTokens.usedByAccountId, accountId))),
      )
      .onConflictDoUpdate({
        target: [accountLinks.platform, accountLinks.platformUserId],
        set: { accountId: sql`excluded.account_id`, linkedAt: sql`excluded.linked_at` },
      }),
  ]);
  return taken[0] ?? null;
}

/** The account a chat user is linked to, for the bots. */
export async function linkedAccountOf(db: Db, platform: LinkPlatform, platformUserId: string): Promise<string | null> {
  const row = await db
    .select({ accountId: accountLinks.accountId })
    .from(accountLinks)
    .where(and(eq(accountLinks.platform, platform), eq(accountLinks.platformUserId, platformUserId)))
    .get();
  return row ? row.accountId : null;
}
