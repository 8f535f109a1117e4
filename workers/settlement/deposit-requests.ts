import { eq, sql } from 'drizzle-orm';
import { depositReferences } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { depositInstructions, type DepositInstructions } from './deposits.ts';
import type { Settlement } from './settlement-env.ts';

// A Solana Pay deposit request for one account: a fresh reference stored against the account,
// then the instructions handed out. What `POST /v1/accounts/me/deposits` and the bots' /deposit
// both call, so a deposit asked for in chat is credited exactly like one asked for over HTTP.

export type DepositReferenceRow = typeof depositReferences.$inferSelect;

export interface DepositRequest {
  reference: DepositReferenceRow;
  instructions: DepositInstructions;
}

/** The same request parameters for a new reference and for one read back (depositRequestOf). */
function requestParams(s: Settlement, expectedAmount: number | null) {
  return {
    recipient: s.treasuryAddress,
    mint: s.config.mint,
    decimals: s.config.decimals,
    amount: expectedAmount === null ? undefined : BigInt(expectedAmount),
    label: 'gridplane',
    message: 'Deposit to your gridplane balance',
  };
}

export type StoredDepositRequest =
  | { state: 'open'; instructions: DepositInstructions; expectedAmount: number | null; expiresAt: number | null }
  | { state: 'unknown' | 'used' | 'expired' };

/**
 * A request handed out before, by its reference: the same Solana Pay URL again while the
 * reference is open (the pay page behind the chats' "Open in wallet" link, GET /pay/{reference}).
 */
export async function depositRequestOf(db: Db, s: Settlement, reference: string, nowMs: number): Promise<StoredDepositRequest> {
  const row = await db.select().from(depositReferences).where(eq(depositReferences.reference, reference)).get();
  if (!row) return { state: 'unknown' };
  if (row.status === 'used') return { state: 'used' };
  if (row.status === 'expired' || (row.expiresAt !== null && row.expiresAt <= nowMs)) return { state: 'expired' };
  const instructions = await depositInstructions({
    ...requestParams(s, row.expectedAmount),
    reference: row.reference as DepositInstructions['reference'],
  });
  return { state: 'open', instructions, expectedAmount: row.expectedAmount, expiresAt: row.expiresAt };
}

/** `expectedAmount` in base units (already validated as > 0), or null to let the payer choose. */
export async function createDepositRequest(
  db: Db,
  s: Settlement,
  accountId: string,
  expectedAmount: number | null,
  nowMs: number,
): Promise<DepositRequest> {
  const instructions = await depositInstructions(requestParams(s, expectedAmount));
  // Stored before it is handed out: a payment can never arrive under a reference we do not know.
  // One statement inserts only while the account holds fewer than the cap of open, unexpired
  // references (open ones are listed by the cron until used or expired), so concurrent requests
  // cannot overshoot it.
  const cap = s.config.deposits.openReferencesPerAccount;
  const inserted = await db.run(sql`
    INSERT INTO deposit_references (reference, account_id, expected_amount, status, created_at, expires_at)
    SELECT ${instructions.reference}, ${accountId}, ${expectedAmount}, 'open', ${nowMs}, ${nowMs + s.config.deposits.referenceTtlMs}
    WHERE (
      SELECT count(*) FROM deposit_references
      WHERE account_id = ${accountId} AND status = 'open' AND (expires_at IS NULL OR expires_at > ${nowMs})
    ) < ${cap}`);
  if (inserted.meta.changes !== 1) {
    throw new AppError(
      409,
      'too_many_open_deposit_references',
      `This account already has ${cap} open deposit references, the most it may hold. Pay into one of them (one without an amount takes any number of payments), or wait until one is used or expires.`,
    );
  }
  const row = await db.select().from(depositReferences).where(eq(depositReferences.reference, instructions.reference)).get();
  return { reference: row!, instructions };
}
