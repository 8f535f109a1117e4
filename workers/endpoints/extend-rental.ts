import { MAX_DURATION_S } from '../../protocol/job-rules.ts';
import { AppError } from '../errors.ts';
import { formatAmount } from '../lib/amounts.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import { endpointOfAccount } from './endpoints.service.ts';
import { getEndpoint, type EndpointRow } from './endpoints.repo.ts';
import { balances } from './endpoint-hold.ts';
import { costOfSeconds } from './replica-billing.ts';

// Extending a template rental (issue 15): its `stop_at` moves later. The chats' "Extend" button
// under the "ends soon" alert calls it with the end it was shown (`fromStopAt`), so a double tap,
// a retried update or an old message's button moves the end once: the UPDATE only matches while
// the end is still the one the button carries.

/** The extensions the chats offer; any whole number of minutes in 1…MAX_EXTEND_S works here. */
export const EXTEND_CHOICES_S = [3600, 1800] as const;
/** One press adds at most a day; the whole rental stays within the job rules' longest duration. */
export const MAX_EXTEND_S = 24 * 3600;

export type ExtendOutcome =
  | { kind: 'extended'; endpoint: EndpointRow; cost: bigint }
  /** The end is not the one the button carried any more (this press, or another, moved it). */
  | { kind: 'unchanged'; endpoint: EndpointRow };

/**
 * Moves the rental's end `addS` later, only while it is active and not past its end, the account
 * owns it (another's is the same 404 as a missing one), the balance covers `addS` at its price
 * (price × GPUs, as the rental was checked) and the whole stays within `MAX_DURATION_S`.
 * It is a check, not a reservation: the hold (endpoint-hold.ts) is what pays, as for every endpoint.
 */
export async function extendRental(
  ctx: EndpointsContext,
  accountId: string,
  endpointId: string,
  fromStopAt: number,
  addS: number,
  nowMs: number,
): Promise<ExtendOutcome> {
  if (!Number.isInteger(addS) || addS < 60 || addS > MAX_EXTEND_S)
    throw new AppError(400, 'invalid_extension', `An extension is 1 minute to ${MAX_EXTEND_S / 3600} h.`);
  const endpoint = await endpointOfAccount(ctx, accountId, endpointId);
  if (endpoint.stopAt === null)
    throw new AppError(409, 'not_a_rental', 'This endpoint runs until it is stopped: there is no end to extend.');
  if (endpoint.stopAt !== fromStopAt) return { kind: 'unchanged', endpoint };
  if (endpoint.status !== 'active' || endpoint.stopAt <= nowMs)
    throw new AppError(409, 'rental_ended', 'This rental has ended: its replicas stop (or stopped). /rent starts a new one.');
  const newStopAt = fromStopAt + addS * 1000;
  if (newStopAt - endpoint.createdAt > MAX_DURATION_S * 1000)
    throw new AppError(409, 'rental_too_long', `A rental runs at most ${MAX_DURATION_S / 86_400} days in all.`);
  const perHour = BigInt(endpoint.maxPricePerGpuHour) * BigInt(endpoint.gpuCount);
  const cost = costOfSeconds(perHour, addS);
  const { balance } = await balances(ctx, endpoint);
  if (balance < cost) {
    const d = ctx.config.TOKEN_DECIMALS;
    throw new AppError(
      402,
      'insufficient_funds',
      `${addS / 60} more minutes cost up to ${formatAmount(cost, d)} tokens; your balance is ${formatAmount(balance, d)}. /deposit adds funds.`,
    );
  }
  // CAS on the end shown: the first press moves it, every repeat finds it moved and changes nothing.
  const moved = await ctx.db.$client
    .prepare(
      "UPDATE endpoints SET stop_at = ?3, version = version + 1, updated_at = ?4 WHERE id = ?1 AND stop_at = ?2 AND status = 'active'",
    )
    .bind(endpointId, fromStopAt, newStopAt, nowMs)
    .run();
  const now = (await getEndpoint(ctx.db, endpointId)) ?? endpoint;
  return moved.meta.changes > 0 ? { kind: 'extended', endpoint: now, cost } : { kind: 'unchanged', endpoint: now };
}
