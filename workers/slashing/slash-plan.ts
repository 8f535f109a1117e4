import { apportion } from '../lib/apportion.ts';

// Who pays a slash, without I/O. The node's reward of the epoch pays first (decided in
// epoch-rewards.ts); what is left is taken from every stake at risk on the node — bonded and
// still unbonding, the operator's and the delegators' — pro rata, never more than there is.

export interface StakePosition {
  accountId: string;
  source: 'bonded' | 'unbonding';
  /** unbondings.id, or 0 for bonded stake. */
  unbondingId: number;
  amount: bigint;
}

export interface SlashTake extends StakePosition {
  take: bigint;
}

export function planStakeSlash(due: bigint, positions: readonly StakePosition[]): { takes: SlashTake[]; total: bigint } {
  const available = positions.reduce((s, p) => s + p.amount, 0n);
  const total = due < available ? due : available;
  const keyOf = (p: StakePosition) => `${p.source === 'bonded' ? 'b' : 'u'}:${p.accountId}:${String(p.unbondingId).padStart(12, '0')}`;
  const parts = apportion(
    total,
    positions.map((p) => ({ key: keyOf(p), weight: p.amount })),
  );
  const takes = positions.map((p) => ({ ...p, take: parts.get(keyOf(p)) ?? 0n })).filter((t) => t.take > 0n);
  return { takes, total };
}

/** Splits what the node's reward paid between its slashes, oldest first. */
export function allocateRewardTake(slashes: readonly { id: string; amount: bigint }[], fromReward: bigint): Map<string, bigint> {
  const out = new Map<string, bigint>();
  let left = fromReward;
  for (const s of slashes) {
    const take = s.amount < left ? s.amount : left;
    out.set(s.id, take);
    left -= take;
  }
  return out;
}
