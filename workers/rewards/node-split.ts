import { apportion } from '../lib/apportion.ts';

// How one node's reward is shared: the operator takes commission on the delegators' part, then
// everyone (operator included) shares the rest by bonded stake. Exact in base units.

export interface StakeShare {
  accountId: string;
  amount: bigint;
}

export interface RewardShare {
  accountId: string;
  role: 'operator' | 'delegator';
  amount: bigint;
  commission: bigint;
}

export function splitNodeReward(net: bigint, operatorAccount: string, commissionBps: number, stakes: readonly StakeShare[]): RewardShare[] {
  if (net <= 0n) return [];
  const total = stakes.reduce((s, x) => s + x.amount, 0n);
  if (total === 0n) return [{ accountId: operatorAccount, role: 'operator', amount: net, commission: 0n }];
  const own = stakes.filter((s) => s.accountId === operatorAccount).reduce((s, x) => s + x.amount, 0n);
  const delegated = total - own;
  const commission = (net * delegated * BigInt(commissionBps)) / (total * 10_000n);
  const parts = apportion(
    net - commission,
    stakes.map((s) => ({ key: s.accountId, weight: s.amount })),
  );
  const out: RewardShare[] = [];
  let operatorSeen = false;
  for (const [accountId, amount] of parts) {
    const isOperator = accountId === operatorAccount;
    operatorSeen ||= isOperator;
    const value = amount + (isOperator ? commission : 0n);
    if (value > 0n)
      out.push({ accountId, role: isOperator ? 'operator' : 'delegator', amount: value, commission: isOperator ? commission : 0n });
  }
  if (!operatorSeen && commission > 0n) out.push({ accountId: operatorAccount, role: 'operator', amount: commission, commission });
  return out.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
}
