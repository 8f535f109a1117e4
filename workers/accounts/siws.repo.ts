import { and, eq, gt, inArray, isNull, lt } from 'drizzle-orm';
import { siwsNonces } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

export interface StoredChallenge {
  nonce: string;
  address: string;
  messageHash: string;
  linkTokenHash: string | null;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Stores a challenge and deletes up to 100 expired ones in the same batch. A used nonce is kept
 * until it expires; after that its message's Expiration Time refuses it anyway.
 */
export async function storeChallenge(db: Db, challenge: StoredChallenge): Promise<void> {
  const expired = db.select({ nonce: siwsNonces.nonce }).from(siwsNonces).where(lt(siwsNonces.expiresAt, challenge.issuedAt)).limit(100);
  await db.batch([db.delete(siwsNonces).where(inArray(siwsNonces.nonce, expired)), db.insert(siwsNonces).values(challenge)]);
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
