import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../workers/config.ts';
import { getParams } from '../../workers/governance/params.repo.ts';
import { closeDueEpochs } from '../../workers/rewards/close-epoch.ts';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { postTransaction } from '../../workers/ledger/ledger.repo.ts';
import { formatAmount } from '../../workers/lib/amounts.ts';
import { api } from './helpers/agent.ts';
import { expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent, type ReadyNode } from './helpers/jobs.ts';
import { authed, sql, testConfig } from './helpers/staking.ts';

// Farming the work pool: an operator rents their own node at 1 base unit per GPU-hour and bills
// many GPU-seconds for almost nothing. Work rewards follow the fees a node's jobs paid, capped at
// a governed multiple of them, so the honest node beside it keeps its share.
//
// Real jobs through the real routes, closed by the real epoch close reading the jobs table. The
// epoch is a week long and began half a week ago, so every job of this test falls inside it.

const WEEK_MS = 7 * 86_400_000;

async function runJob(
  call: (method: string, path: string, body?: unknown) => Promise<Response>,
  node: ReadyNode,
  body: Record<string, unknown>,
  receiptGpuSeconds: number,
) {
  const created = await json(await call('POST', '/v1/jobs', body), 201);
  expect(created.nodeId).toBe(node.nodeId);
  await sendEvent(node, created.id, { kind: 'accepted' });
  await sendEvent(node, created.id, { kind: 'started' });
  const done = await json(
    await sendEvent(node, created.id, {
      kind: 'finished',
      exitCode: 0,
      reason: 'exited',
      receipt: { gpuSeconds: receiptGpuSeconds, runSeconds: 1 },
    }),
    200,
  );
  expect(done.status).toBe('succeeded');
}

describe('work rewards cannot be farmed', () => {
  it("a node rented by its own operator for next to nothing does not take the honest node's work reward", async () => {
    const genesis = Date.now() - WEEK_MS / 2;
    const config = testConfig({ EPOCH_SECONDS: WEEK_MS / 1000, EPOCH_GENESIS_MS: genesis });

    // The honest node: a renter pays 36 tokens per GPU-hour for 2 GPU-seconds.
    const honest = await nodeAt(47.37, 8.54, 'CH', { pricePerGpuHour: '36.000000' });
    const renter = await newRenter();
    await runJob(renter.call, honest, jobBody({ durationS: 60, client: { lat: 47.4, lon: 8.5 } }), 2);

    // The farm: 1 base unit per GPU-hour, rented by its own operator, ten times the GPU-seconds.
    const farm = await nodeAt(-33.87, 151.21, 'AU', { pricePerGpuHour: '0.000001' });
    // The operator's own account pays for the jobs.
    await postTransaction(testDb(), {
      kind: 'mint',
      idempotencyKey: `test-farm-funds:${farm.operator.accountId}`,
      entries: [
        { account: SYSTEM_ACCOUNTS.emission, amount: -1_000_000 },
        { account: farm.operator.accountId, amount: 1_000_000 },
      ],
    });
    const self = (method: string, path: string, body?: unknown) => authed(farm.operator, method, path, body);
    for (let i = 0; i < 5; i++) {
      await runJob(
        self,
        farm,
        jobBody({ gpu: { model: 'RTX 4090', count: 2 }, maxPricePerGpuHour: '0.000001', client: { lat: -33.9, lon: 151.2 } }),
        4,
      );
    }

    const paid = async (nodeId: string) =>
      (
        await sql<{ s: number; fees: number }>(
          `SELECT SUM(billed_gpu_seconds) AS s, SUM(fee) AS fees FROM jobs WHERE node_id = ? AND status = 'succeeded'`,
          nodeId,
        )
      )[0]!;
    const honestPaid = await paid(honest.nodeId);
    const farmPaid = await paid(farm.nodeId);
    expect(farmPaid.s).toBeGreaterThan(5 * honestPaid.s);
    expect(honestPaid.fees).toBeGreaterThan(0);
    expect(farmPaid.fees).toBe(0);

    const report = await closeDueEpochs(testDb(), config, { nowMs: genesis + WEEK_MS + 1 });
    expect(report.closed).toEqual([0]);
    const epoch = (
      await sql<{ work_pool: number; capacity_pool: number; minted: number; carry_out: number; work_fee_multiple_bps: number }>(
        'SELECT * FROM epochs WHERE epoch = 0',
      )
    )[0]!;
    const rows = new Map(
      (
        await sql<{ node_id: string; gpu_seconds: number; work_fees: number; work_reward: number }>(
          'SELECT * FROM epoch_nodes WHERE epoch = 0',
        )
      ).map((r) => [r.node_id, r]),
    );
    expect(epoch.work_pool).toBeGreaterThan(0);
    expect(rows.get(farm.nodeId)!.work_reward).toBe(0);
    const multiple = (await getParams(testDb(), getConfig(env))).work_reward_fee_multiple_bps;
    expect(epoch.work_fee_multiple_bps).toBe(multiple);
    expect(rows.get(farm.nodeId)).toMatchObject({ gpu_seconds: farmPaid.s, work_fees: 0, work_reward: 0 });
    // Alone, the honest node would get the pool up to the multiple of its fees; beside the farm it gets the same.
    const alone = Math.min(epoch.work_pool, Math.floor((honestPaid.fees * multiple) / 10_000));
    expect(rows.get(honest.nodeId)).toMatchObject({ gpu_seconds: honestPaid.s, work_fees: honestPaid.fees, work_reward: alone });
    // The public views say what the work reward followed.
    const shown = (await json(await api(`/v1/staking/nodes/${honest.nodeId}/rewards`), 200)) as {
      rewards: { epoch: number; workFees: string; workReward: string }[];
    };
    expect(shown.rewards[0]).toMatchObject({ epoch: 0, workFees: formatAmount(honestPaid.fees, 6), workReward: formatAmount(alone, 6) });
    expect(await json(await api('/v1/staking/epochs/0'), 200)).toMatchObject({ workFeeMultipleBps: multiple });
    // What nobody earned is carried to the next epoch, not minted.
    expect(epoch.carry_out).toBe(epoch.capacity_pool + epoch.work_pool - epoch.minted);
    await expectLedgerReconciles();
  });
});
