import { sql } from 'drizzle-orm';
import { accounts } from '../../db/schema.ts';

import { escrowAccount } from '../ledger/ledger-accounts.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';
import { assertChanged, assertionFailed } from '../staking/sql-assert.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import type { EndpointRow } from './endpoints.repo.ts';
import { costOfSeconds } from './replica-billing.ts';

// The renter's hold for an endpoint: the ledger account `escrow:<endpointId>`, filled from the
// renter's balance ahead of use (ENDPOINT_HOLD_AHEAD_S of the live replicas' burn) and drawn
// by each replica's bill. A top-up is one ledger transaction (`escrow_hold`, key
// `endpoint:<id>:hold:<n>`) with the compare-and-swap of endpoints.hold_seq in the same batch,
// so two racing top-ups cannot both take from the renter for the same n, and a replayed batch
// takes nothing. Nothing goes negative: the ledger's CHECK refuses it.

export interface HoldState {
  hold: bigint;
  balance: bigint;
  /** What the hold should hold now. */
  target: bigint;
  /** Base units moved into the hold by this call. */
  added: bigint;
}

export async function balances(
  ctx: EndpointsContext,
  endpoint: Pick<EndpointRow, 'id' | 'accountId'>,
): Promise<{ hold: bigint; balance: bigint }> {
  const rows = await ctx.db
    .select({ id: accounts.id, balance: accounts.balance })
    .from(accounts)
    .where(sql`${accounts.id} IN (${escrowAccount(endpoint.id)}, ${endpoint.accountId})`)
    .all();
  const of = (id: string) => BigInt(rows.find((r) => r.id === id)?.balance ?? 0);
  return { hold: of(escrowAccount(endpoint.id)), balance: of(endpoint.accountId) };
}

/**
 * Tops the hold up to `costOfSeconds(perHour, HOLD_AHEAD_S)` when it has fallen below half of
 * that, taking at most what the renter has. `perHour`: base units per hour of the replicas the
 * hold must cover.
 */
export async function topUpHold(ctx: EndpointsContext, endpoint: EndpointRow, perHour: bigint, nowMs: number): Promise<HoldState> {
  const target = costOfSeconds(perHour, ctx.config.ENDPOINT_HOLD_AHEAD_S);
  for (let attempt = 0; ; attempt++) {
    const { hold, balance } = await balances(ctx, endpoint);
    const seq = attempt === 0 ? endpoint.holdSeq : await currentSeq(ctx, endpoint.id);
    if (hold * 2n >= target || balance <= 0n) return { hold, balance, target, added: 0n };
    const want = target - hold;
    const amount = want < balance ? want : balance;
    try {
      await postTransaction(
        ctx.db,
        {
          kind: 'escrow_hold',
          idempotencyKey: `endpoint:${endpoint.id}:hold:${seq + 1}`,
          entries: [
            { account: endpoint.accountId, amount: -amount },
            { account: escrowAccount(endpoint.id), amount },
          ],
          ref: `endpoint:${endpoint.id}`,
          memo: 'endpoint hold',
        },
        {
          now: nowMs,
          with: () => [
            ctx.db.$client
              .prepare('UPDATE endpoints SET hold_seq = hold_seq + 1, updated_at = ?3 WHERE id = ?1 AND hold_seq = ?2')
              .bind(endpoint.id, seq, nowMs),
            assertChanged(ctx.db.$client, 'hold_moved'),
          ],
        },
      ).then((tx) => {
        if (tx.replayed) throw new Error('assert:hold_moved');
      });
      return { hold: hold + amount, balance: balance - amount, target, added: amount };
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? (error as { code?: string }).code : undefined;
      const moved = assertionFailed(error) === 'hold_moved' || code === 'idempotency_conflict' || code === 'insufficient_funds';
      if (!moved || attempt >= 3) throw error;
    }
  }
}

async function currentSeq(ctx: EndpointsContext, id: string): Promise<number> {
  const row = await ctx.db.$client.prepare('SELECT hold_seq AS seq FROM endpoints WHERE id = ?1').bind(id).first<{ seq: number }>();
  return row?.seq ?? 0;
}

/**
 * Gives the whole hold back to the renter (DELETE, or an endpoint stopped for good) once no
 * replica can bill it any more. Keyed on the hold sequence, so it happens once per episode.
 */
export async function releaseHold(ctx: EndpointsContext, endpoint: EndpointRow, nowMs: number): Promise<bigint> {
  const { hold } = await balances(ctx, endpoint);
  if (hold <= 0n) return 0n;
  const seq = await currentSeq(ctx, endpoint.id);
  try {
    await postTransaction(
      ctx.db,
      {
        kind: 'refund',
        idempotencyKey: `endpoint:${endpoint.id}:release:${seq}`,
        entries: [
          { account: escrowAccount(endpoint.id), amount: -hold },
          { account: endpoint.accountId, amount: hold },
        ],
        ref: `endpoint:${endpoint.id}`,
        memo: 'endpoint hold released',
      },
      {
        now: nowMs,
        with: () => [
          ctx.db.$client
            .prepare('UPDATE endpoints SET hold_seq = hold_seq + 1, updated_at = ?3 WHERE id = ?1 AND hold_seq = ?2')
            .bind(endpoint.id, seq, nowMs),
          assertChanged(ctx.db.$client, 'hold_moved'),
        ],
      },
    );
    return hold;
  } catch (error) {
    // Another writer moved the hold meanwhile; the next cron tick releases what is left.
    if (
      assertionFailed(error) === 'hold_moved' ||
      (error instanceof Error &&
        'code' in error &&
        ['idempotency_conflict', 'insufficient_funds'].includes(String((error as { code?: string }).code)))
    )
      return 0n;
    throw error;
  }
}
