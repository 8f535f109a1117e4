import { depositReferences } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
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
  const [row] = await db
    .insert(depositReferences)
    .values({
      reference: instructions.reference,
      accountId,
      expectedAmount,
      status: 'open',
      createdAt: nowMs,
      expiresAt: nowMs + s.config.deposits.referenceTtlMs,
    })
    .returning();
  return { reference: row!, instructions };
}
