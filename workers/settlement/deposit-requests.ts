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

/** `expectedAmount` in base units (already validated as > 0), or null to let the payer choose. */
export async function createDepositRequest(db: Db, s: Settlement, accountId: string, expectedAmount: number | null, nowMs: number): Promise<DepositRequest> {
  const instructions = await depositInstructions({
    recipient: s.treasuryAddress,
    mint: s.config.mint,
    decimals: s.config.decimals,
    amount: expectedAmount === null ? undefined : BigInt(expectedAmount),
    label: 'gridplane',
    message: 'Deposit to your gridplane balance',
  });
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
