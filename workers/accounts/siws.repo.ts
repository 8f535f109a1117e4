import { and, count, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import { siwsNonces } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

/** Unanswered, unexpired challenges one wallet may have (siws.app.ts refuses more). */
export const MAX_OUTSTANDING_CHALLENGES = 5;

export interface StoredChallenge {
  nonce: string;
  address: string;
  messageHash: string;
  linkTokenHash: string | null;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Stores a challenge unless its wallet already has MAX_OUTSTANDING_CHALLENGES unanswered,
 * unexpired ones (false then, nothing stored), and deletes up to 100 expired challenges in the
 * same batch: every insert prunes far more than it adds, so the table holds about what the last
 * ten minutes issued. A used nonce is kept until it expires; after that its message's Expiration
 * Time refuses it anyway. Count and insert are one statement, so racing requests cannot both
 * take the last place.
 */
export async function storeChallenge(db: Db, challenge: StoredChallenge): Promise<boolean> {
  const expired = db.select({ nonce: siwsNonces.nonce }).from(siwsNonces).where(lt(siwsNonces.expiresAt, challenge.issuedAt)).limit(100);
  const outstanding = db
    .select({ n: count() })
    .from(siwsNonces)
    .where(and(eq(siwsNonces.address, challenge.address), isNull(siwsNonces.usedAt), gt(siwsNonces.expiresAt, challenge.issuedAt)));
  const row = db
    .select({
      nonce: sql`${challenge.nonce}`.as('nonce'),
      address: sql`${challenge.address}`.as('address'),
      messageHash: sql`${challenge.messageHash}`.as('message_hash'),
      linkTokenHash: sql`${challenge.linkTokenHash}`.as('link_token_hash'),
      issuedAt: sql`${challenge.issuedAt}`.as('issued_at'),
      expiresAt: sql`${challenge.expiresAt}`.as('expires_at'),
      usedAt: sql`NULL`.as('used_at'),
    })
    .from(sql`(SELECT 1)`)
    .where(sql`(${outstanding}) < ${MAX_OUTSTANDING_CHALLENGES}`);
  const [, inserted] = await db.batch([
    db.delete(siwsNonces).where(inArray(siwsNonces.nonce, expired)),
    db.insert(siwsNonces).select(row).returning({ nonce: siwsNonces.nonce }),
  ]);
  return inserted.length === 1;
}

/**
 * Consumes the nonce of exactly this message for exactly this wallet, once: a conditional
 * UPDATE … RETURNING, so of two racing verifications only one gets the row back.
 */
export async function consumeNonce(
  db: Db,
  claim: { nonce: string; address: string; messageHash: string; nowMs: number },
): Promise<{ linkTokenHash: string | null } | null> {
  const [row] = await db
    .update(siwsNonces)
    .set({ usedAt: claim.nowMs })
    .where(
      and(
        eq(siwsNonces.nonce, claim.nonce),
        eq(siwsNonces.address, claim.address),
        eq(siwsNonces.messageHash, claim.messageHash),
        isNull(siwsNonces.usedAt),
        gt(siwsNonces.expiresAt, claim.nowMs),
      ),
    )
    .returning({ linkTokenHash: siwsNonces.linkTokenHash });
  return row ?? null;
}
