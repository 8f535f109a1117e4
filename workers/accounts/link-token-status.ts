import { eq } from 'drizzle-orm';
import { linkTokens, type LinkPlatform } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { hashLinkToken, LINK_TOKEN_PATTERN } from './links.ts';

// What the link page tells a person before any wallet is involved: read-only, so opening a link
// (or a chat app's preview fetching it) never uses the token up.

export type LinkTokenStatus =
  | { state: 'usable'; platform: LinkPlatform; platformUserId: string; platformUserName: string | null; expiresAt: number }
  | { state: 'used'; platform: LinkPlatform }
  | { state: 'expired'; platform: LinkPlatform }
  | { state: 'unknown' }
  | { state: 'malformed' };

export async function linkTokenStatus(db: Db, token: string, nowMs: number): Promise<LinkTokenStatus> {
  if (!LINK_TOKEN_PATTERN.test(token)) return { state: 'malformed' };
  const row = await db
    .select({
      platform: linkTokens.platform,
      platformUserId: linkTokens.platformUserId,
      platformUserName: linkTokens.platformUserName,
      expiresAt: linkTokens.expiresAt,
      usedAt: linkTokens.usedAt,
    })
    .from(linkTokens)
    .where(eq(linkTokens.tokenHash, await hashLinkToken(token)))
    .get();
  if (!row) return { state: 'unknown' };
  // Same order as usableLinkTokenHash: a used token is used even after it would have expired.
  if (row.usedAt !== null) return { state: 'used', platform: row.platform };
  if (row.expiresAt <= nowMs) return { state: 'expired', platform: row.platform };
  return {
    state: 'usable',
    platform: row.platform,
    platformUserId: row.platformUserId,
    platformUserName: row.platformUserName,
    expiresAt: row.expiresAt,
  };
}
