import { and, eq, gt, isNull } from 'drizzle-orm';
import { accountLinks, linkTokens, type LinkPlatform } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { randomSecret } from '../lib/ids.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';

// Linking a Telegram or Discord user to an account. The bot calls `createLinkToken` (with the
// user's handle) and sends the user to `/link?token=…`; the page names that chat user and asks
// for a SIWS challenge with the token, whose statement names the chat user too and whose
// resources carry the token; a verified sign-in uses the token up (`consumeLinkToken`), which
// makes the link *pending*. It takes effect only when the chat user confirms it in chat
// (`confirmLink`, the bot's Confirm button, which shows the wallet): a leaked token cannot link
// someone's chat account to a stranger's wallet without that person's press, and the press is
// the token's own chat user's (platform and user id are checked in the statement).

/** How long after the sign-in the chat user may confirm the link. */
export const LINK_CONFIRM_TTL_MS = 15 * 60 * 1000;
/** The short reference a chat button carries: the first 16 hex digits of the token's hash. */
export const linkRefOf = (tokenHash: string) => tokenHash.slice(0, 16);
const LINK_REF_PATTERN = /^[0-9a-f]{16}$/;

export const LINK_TOKEN_TTL_MS = 15 * 60 * 1000;
export const LINK_TOKEN_PATTERN = /^lt_[A-Za-z0-9_-]{32}$/;

export const hashLinkToken = (token: string) => sha256Hex(new TextEncoder().encode(token));

/** A one-time token for this chat user; shown once (only its hash is stored). */
export async function createLinkToken(
  db: Db,
  platform: LinkPlatform,
  platformUserId: string,
  options: { nowMs?: number; ttlMs?: number; userName?: string } = {},
): Promise<{ token: string; expiresAt: number; ref: string }> {
  const nowMs = options.nowMs ?? Date.now();
  const token = `lt_${randomSecret(24)}`;
  const expiresAt = nowMs + (options.ttlMs ?? LINK_TOKEN_TTL_MS);
  const tokenHash = await hashLinkToken(token);
  // The handle is shown to the person signing; keep it short and on one line.
  const platformUserName = options.userName ? options.userName.replace(/\s+/g, ' ').trim().slice(0, 64) || null : null;
  await db.insert(linkTokens).values({ tokenHash, platform, platformUserId, platformUserName, createdAt: nowMs, expiresAt });
  return { token, expiresAt, ref: linkRefOf(tokenHash) };
}

/** "Telegram user @name (id 123)": the chat account a link token would link. */
export function chatUserLabel(platform: LinkPlatform, platformUserId: string, platformUserName: string | null): string {
  const where = platform === 'telegram' ? 'Telegram' : 'Discord';
  return platformUserName ? `${where} user ${platformUserName} (id ${platformUserId})` : `${where} user id ${platformUserId}`;
}

/** Who a usable token would link, for the sign-in statement; null when it cannot be used. */
export async function usableLinkToken(
  db: Db,
  token: string,
  nowMs: number,
): Promise<{ tokenHash: string; platform: LinkPlatform; platformUserId: string; platformUserName: string | null } | null> {
  if (!LINK_TOKEN_PATTERN.test(token)) return null;
  const tokenHash = await hashLinkToken(token);
  const row = await db
    .select({ platform: linkTokens.platform, platformUserId: linkTokens.platformUserId, platformUserName: linkTokens.platformUserName })
    .from(linkTokens)
    .where(and(eq(linkTokens.tokenHash, tokenHash), isNull(linkTokens.usedAt), gt(linkTokens.expiresAt, nowMs)))
    .get();
  return row ? { tokenHash, ...row } : null;
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
 * A verified sign-in uses the token: it records the account, and the link waits for the chat
 * user's confirmation (`confirmLink`). Only one sign-in can take a token (conditional UPDATE).
 */
export async function consumeLinkToken(
  db: Db,
  tokenHash: string,
  accountId: string,
  nowMs: number,
): Promise<{ platform: LinkPlatform; platformUserId: string; platformUserName: string | null } | null> {
  const taken = await db
    .update(linkTokens)
    .set({ usedAt: nowMs, usedByAccountId: accountId })
    .where(and(eq(linkTokens.tokenHash, tokenHash), isNull(linkTokens.usedAt), gt(linkTokens.expiresAt, nowMs)))
    .returning({ platform: linkTokens.platform, platformUserId: linkTokens.platformUserId, platformUserName: linkTokens.platformUserName });
  return taken[0] ?? null;
}

export type PendingLink =
  | { state: 'not_signed'; expiresAt: number }
  | { state: 'pending'; wallet: string; accountId: string; label: string; confirmBy: number }
  | { state: 'confirmed'; wallet: string }
  | { state: 'cancelled' }
  | { state: 'expired' }
  | { state: 'unknown' };

/** What a chat user's link (by its button reference) waits for. Read-only. */
export async function pendingLink(
  db: Db,
  platform: LinkPlatform,
  platformUserId: string,
  ref: string,
  nowMs: number,
): Promise<PendingLink> {
  if (!LINK_REF_PATTERN.test(ref)) return { state: 'unknown' };
  const row = await db.$client
    .prepare(
      `SELECT t.expires_at, t.used_at, t.confirmed_at, t.cancelled_at, t.used_by_account_id, t.platform_user_name, a.wallet
       FROM link_tokens t LEFT JOIN accounts a ON a.id = t.used_by_account_id
       WHERE t.token_hash >= ?1 AND t.token_hash < ?1 || 'g' AND t.platform = ?2 AND t.platform_user_id = ?3`,
    )
    .bind(ref, platform, platformUserId)
    .first<{
      expires_at: number;
      used_at: number | null;
      confirmed_at: number | null;
      cancelled_at: number | null;
      used_by_account_id: string | null;
      platform_user_name: string | null;
      wallet: string | null;
    }>();
  if (!row) return { state: 'unknown' };
  if (row.confirmed_at !== null) return { state: 'confirmed', wallet: row.wallet ?? '' };
  if (row.cancelled_at !== null) return { state: 'cancelled' };
  if (row.used_at === null) return row.expires_at > nowMs ? { state: 'not_signed', expiresAt: row.expires_at } : { state: 'expired' };
  if (row.used_at + LINK_CONFIRM_TTL_MS <= nowMs) return { state: 'expired' };
  return {
    state: 'pending',
    wallet: row.wallet ?? '',
    accountId: row.used_by_account_id ?? '',
    label: chatUserLabel(platform, platformUserId, row.platform_user_name),
    confirmBy: row.used_at + LINK_CONFIRM_TTL_MS,
  };
}

/**
 * The chat user's Confirm: links them to the account that signed in with the token, atomically
 * (the link row is written only by the batch whose UPDATE took the confirmation). A chat user
 * linked before moves to this account. null: nothing to confirm (not signed, expired, done).
 */
export async function confirmLink(
  db: Db,
  platform: LinkPlatform,
  platformUserId: string,
  ref: string,
  nowMs: number,
): Promise<{ accountId: string } | null> {
  if (!LINK_REF_PATTERN.test(ref)) return null;
  const client = db.$client;
  const [taken] = await client.batch([
    client
      .prepare(
        `UPDATE link_tokens SET confirmed_at = ?4
         WHERE token_hash >= ?1 AND token_hash < ?1 || 'g' AND platform = ?2 AND platform_user_id = ?3
           AND used_at IS NOT NULL AND used_at + ?5 > ?4 AND confirmed_at IS NULL AND cancelled_at IS NULL
         RETURNING used_by_account_id`,
      )
      .bind(ref, platform, platformUserId, nowMs, LINK_CONFIRM_TTL_MS),
    client
      .prepare(
        `INSERT INTO account_links (platform, platform_user_id, account_id, linked_at)
         SELECT platform, platform_user_id, used_by_account_id, ?4 FROM link_tokens
         WHERE token_hash >= ?1 AND token_hash < ?1 || 'g' AND platform = ?2 AND platform_user_id = ?3 AND confirmed_at = ?4
         ON CONFLICT (platform, platform_user_id) DO UPDATE SET account_id = excluded.account_id, linked_at = excluded.linked_at`,
      )
      .bind(ref, platform, platformUserId, nowMs),
  ]);
  const row = (taken!.results as { used_by_account_id: string }[])[0];
  return row ? { accountId: row.used_by_account_id } : null;
}

/** The chat user's Cancel: the sign-in never links. false when there was nothing to cancel. */
export async function cancelLink(db: Db, platform: LinkPlatform, platformUserId: string, ref: string, nowMs: number): Promise<boolean> {
  if (!LINK_REF_PATTERN.test(ref)) return false;
  const result = await db.$client
    .prepare(
      `UPDATE link_tokens SET cancelled_at = ?4
       WHERE token_hash >= ?1 AND token_hash < ?1 || 'g' AND platform = ?2 AND platform_user_id = ?3
         AND confirmed_at IS NULL AND cancelled_at IS NULL`,
    )
    .bind(ref, platform, platformUserId, nowMs)
    .run();
  return result.meta.changes > 0;
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
