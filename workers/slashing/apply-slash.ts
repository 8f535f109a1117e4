import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';
import { refreshEligibility } from '../staking/eligibility.ts';
import { STAKING_ACCOUNTS } from '../staking/staking-accounts.ts';
import { planStakeSlash, type StakePosition } from './slash-plan.ts';

// Applies one pending slash at an epoch close, as one D1 batch: the ledger transaction
// (`slash:<id>`; reward pool, staked and unbonding → community treasury), the stake rows it
// takes from, the record of whose stake it took, and the slash marked applied. A rerun after a
// crash finds the key used and the slash applied, and changes nothing.

export interface PendingSlash {
  id: string;
  nodeId: string;
  amount: number;
}

export async function applySlash(
  db: Db,
  config: Config,
  slash: PendingSlash,
  fromReward: bigint,
  epoch: number,
  nowMs: number,
): Promise<number> {
  const [bonded, unbonding] = await db.$client.batch<{ account_id: string; id: number; amount: number }>([
    db.$client.prepare('SELECT account_id, 0 AS id, amount FROM stakes WHERE node_id = ?1 AND amount > 0').bind(slash.nodeId),
    db.$client
      .prepare(`SELECT account_id, id, amount FROM unbondings WHERE node_id = ?1 AND status = 'unbonding' AND amount > 0`)
      .bind(slash.nodeId),
  ]);
  const positions: StakePosition[] = [
    ...bonded!.results.map((r) => ({ accountId: r.account_id, source: 'bonded' as const, unbondingId: 0, amount: BigInt(r.amount) })),
    ...unbonding!.results.map((r) => ({
      accountId: r.account_id,
      source: 'unbonding' as const,
      unbondingId: r.id,
      amount: BigInt(r.amount),
    })),
  ];
  const due = BigInt(slash.amount) - fromReward;
  const { takes, total } = planStakeSlash(due > 0n ? due : 0n, positions);
  const fromBonded = takes.filter((t) => t.source === 'bonded').reduce((s, t) => s + t.take, 0n);
  const fromUnbonding = total - fromBonded;
  const json = (source: 'bonded' | 'unbonding') =>
    JSON.stringify(takes.filter((t) => t.source === source).map((t) => ({ a: t.accountId, u: t.unbondingId, t: Number(t.take) })));
  const rows = [
    db.$client
      .prepare(
        `UPDATE stakes SET amount = stakes.amount - v.t, updated_at = ?3
         FROM (SELECT value ->> 'a' AS a, value ->> 't' AS t FROM json_each(?1)) AS v
         WHERE stakes.node_id = ?2 AND stakes.account_id = v.a`,
      )
      .bind(json('bonded'), slash.nodeId, nowMs),
    db.$client
      .prepare(
        `UPDATE unbondings SET amount = unbondings.amount - v.t
         FROM (SELECT value ->> 'u' AS u, value ->> 't' AS t FROM json_each(?1)) AS v WHERE unbondings.id = v.u`,
      )
      .bind(json('unbonding')),
    db.$client
      .prepare(
        `INSERT INTO slash_shares (slash_id, account_id, source, unbonding_id, amount)
         SELECT ?1, value ->> 'a', ?2, value ->> 'u', value ->> 't' FROM json_each(?3)`,
      )
      .bind(slash.id, 'bonded', json('bonded')),
    db.$client
      .prepare(
        `INSERT INTO slash_shares (slash_id, account_id, source, unbonding_id, amount)
         SELECT ?1, value ->> 'a', ?2, value ->> 'u', value ->> 't' FROM json_each(?3)`,
      )
      .bind(slash.id, 'unbonding', json('unbonding')),
    db.$client
      .prepare(
        `UPDATE slashes SET status = 'applied', epoch = ?2, from_reward = ?3, from_stake = ?4, applied_at = ?5
         WHERE id = ?1 AND status = 'pending'`,
      )
      .bind(slash.id, epoch, Number(fromReward), Number(total), nowMs),
    refreshEligibility(db, config, [slash.nodeId]),
  ];
  const entries = [
    { account: STAKING_ACCOUNTS.rewardPool, amount: -fromReward },
    { account: STAKING_ACCOUNTS.staked, amount: -fromBonded },
    { account: STAKING_ACCOUNTS.unbonding, amount: -fromUnbonding },
    { account: STAKING_ACCOUNTS.community, amount: fromReward + total },
  ].filter((e) => e.amount !== 0n);
  if (entries.length === 0) {
    await db.$client.batch(rows);
    return 2 + rows.length;
  }
  await postTransaction(
    db,
    { kind: 'slash', idempotencyKey: `slash:${slash.id}`, entries, ref: `node:${slash.nodeId}`, meta: { slashId: slash.id, epoch } },
    { now: nowMs, with: () => rows },
  );
  return 2 + 3 + rows.length;
}
