import { Hono } from 'hono';
import type { deposits } from '../../db/schema.ts';
import { requireAccount } from '../accounts/require-account.ts';
import type { AppEnv } from '../app-env.ts';
import { badRequest, notFound } from '../errors.ts';
import { parseJsonBytes, readRawBody, validate } from '../http/body.ts';
import { formatAmount, parseAmount } from '../lib/amounts.ts';
import { findReference, scanAndRecord, type DepositReferenceRow, type RecordedDecision } from './deposit-scan.ts';
import { newDepositSchema, referenceParam } from './deposit-input.schema.ts';
import { createDepositRequest } from './deposit-requests.ts';
import { depositsOfAccount, depositsOfReference, referencesOfAccount } from './deposits.repo.ts';
import { requireSettlement, upstreamError } from './settlement-env.ts';

// Deposits by Solana Pay transfer request, mounted at /v1/accounts/me/deposits (API key).
// POST hands out the treasury's token address and a fresh reference for the account; the cron
// (and POST …/{reference}/check, on demand) credits finalized payments once per signature.
// No Idempotency-Key: a check is safe to repeat, and each POST is a new reference by design.

type DepositRow = typeof deposits.$inferSelect;

export const depositsApp = new Hono<AppEnv>()
  .use(requireAccount)

  .post('/', async (c) => {
    const raw = await readRawBody(c);
    const body = validate(newDepositSchema, raw.byteLength === 0 ? {} : parseJsonBytes(raw));
    const s = await requireSettlement(c.env);
    const decimals = s.config.decimals;
    let expected: number | null = null;
    if (body.amount !== undefined) {
      const amount = parseAmount(body.amount, decimals);
      if (!amount.ok) throw badRequest('invalid_request', `amount: ${amount.reason}.`);
      if (amount.baseUnits <= 0) throw badRequest('invalid_request', 'amount: must be more than 0.');
      expected = amount.baseUnits;
    }
    const { reference: row, instructions } = await createDepositRequest(c.var.db, s, c.var.account.id, expected, Date.now());
    return c.json(
      {
        ...referenceView(row, decimals),
        recipient: instructions.recipient,
        tokenAccount: instructions.tokenAccount,
        mint: instructions.mint,
        decimals,
        url: instructions.url,
      },
      201,
    );
  })

  .get('/', async (c) => {
    const decimals = c.var.config.TOKEN_DECIMALS;
    const me = c.var.account.id;
    const [refs, rows] = await Promise.all([referencesOfAccount(c.var.db, me, 50), depositsOfAccount(c.var.db, me, 50)]);
    return c.json({ references: refs.map((r) => referenceView(r, decimals)), deposits: rows.map((d) => depositView(d, decimals)) });
  })

  .post('/:reference/check', async (c) => {
    const reference = validate(referenceParam, c.req.param('reference'));
    const ref = await findReference(c.var.db, c.var.account.id, reference);
    if (!ref) throw notFound('Deposit reference');
    const s = await requireSettlement(c.env);
    const decimals = s.config.decimals;
    let scan: Awaited<ReturnType<typeof scanAndRecord>>;
    try {
      scan = await scanAndRecord(c.var.db, s, ref);
    } catch (error) {
      throw upstreamError(error);
    }
    const [after, rows] = await Promise.all([
      findReference(c.var.db, c.var.account.id, reference),
      depositsOfReference(c.var.db, reference, 100),
    ]);
    return c.json({
      ...referenceView(after ?? ref, decimals),
      /** What this check credited; 0 when an earlier or concurrent check did. */
      creditedNow: formatAmount(scan.creditedNow, decimals),
      decisions: scan.decisions.map((d) => decisionView(d, decimals)),
      deposits: rows.map((d) => depositView(d, decimals)),
    });
  });

function referenceView(r: DepositReferenceRow, decimals: number) {
  return {
    reference: r.reference,
    amount: r.expectedAmount === null ? null : formatAmount(r.expectedAmount, decimals),
    status: r.status,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
    scannedAt: r.scannedAt === null ? null : new Date(r.scannedAt).toISOString(),
  };
}

function depositView(d: DepositRow, decimals: number) {
  return {
    signature: d.signature,
    reference: d.reference,
    status: d.status,
    amount: d.amount === null ? null : formatAmount(d.amount, decimals),
    reason: d.reason,
    detail: d.detail,
    slot: d.slot,
    transactionId: d.ledgerTxId,
    decidedAt: new Date(d.decidedAt).toISOString(),
  };
}

function decisionView(d: RecordedDecision, decimals: number) {
  return {
    signature: d.signature,
    outcome: d.outcome,
    reason: d.reason ?? null,
    amount: d.amount === undefined ? null : formatAmount(d.amount, decimals),
  };
}
