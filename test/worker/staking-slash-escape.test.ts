import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { closeDueEpochs } from '../../workers/rewards/close-epoch.ts';
import { epochAt, epochBounds } from '../../workers/lib/epoch-clock.ts';
import { balanceOf, expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { authed, devAccount, ownedNode, sql, testConfig, verifyNode } from './helpers/staking.ts';

// An operator who sees an offence coming unstakes everything, hoping the stake is released
// before the slash lands. Unbonding stake stays at risk: a close never releases an unbonding of
// a node that has a pending slash, even one recorded while that close was already running.

const T = 1_000_000;

describe('escaping a slash by unstaking', () => {
  it('holds unbonding stake until a slash recorded during the releasing close has been applied', async () => {
    const operator = await devAccount(500);
    const node = await ownedNode(operator);
    expect((await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '400' })).status).toBe(201);
    await verifyNode(node);

    const res = await authed(operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '400' });
    expect(res.status).toBe(201);
    const releaseAt = Date.parse(((await res.json()) as { unbonding: { releaseAt: string } }).unbonding.releaseAt);
    const config = testConfig();
    const due = epochAt(config, releaseAt); // the epoch whose close releases it
    const afterDue = epochBounds(config, due).endMs + 1;
    const balance0 = await balanceOf(operator.accountId);
    const community0 = await balanceOf('system:community');

    // The close of that epoch stops (an invocation ran out, a crash) just before its release
    // step; meanwhile the node's abandoned job is recorded as an offence.
    await expect(
      closeDueEpochs(testDb(), config, {
        nowMs: afterDue,
        beforeQuery: (step) => {
          if (step === 'release') throw new Error('crash before release');
        },
      }),
    ).rejects.toThrow('crash before release');
    const offence = await exports.default.fetch(
      new Request('http://gridplane.test/v1/admin/staking/offences', {
        method: 'POST',
        headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({
          offence: 'abandoned_job',
          nodeId: node.nodeId,
          jobId: 'job-escape',
          evidence: { note: 'went silent, owner unstaked' },
        }),
      }),
    );
    expect(offence.status).toBe(201);

    // The close resumes and finishes, but the stake stays where the slash can reach it.
    const resumed = await closeDueEpochs(testDb(), config, { nowMs: afterDue });
    expect(resumed.closed).toEqual([due]);
    expect(await sql('SELECT status, amount FROM unbondings WHERE node_id = ?', node.nodeId)).toEqual([
      { status: 'unbonding', amount: 400 * T },
    ]);
    expect(await balanceOf(operator.accountId)).toBe(balance0);

    // The next close applies the slash (50 tokens × 2 GPUs) to the unbonding stake, then releases the rest.
    const next = await closeDueEpochs(testDb(), config, { nowMs: epochBounds(config, due + 1).endMs + 1 });
    expect(next.closed).toEqual([due + 1]);
    expect(await sql('SELECT status, from_stake, epoch FROM slashes WHERE node_id = ?', node.nodeId)).toEqual([
      { status: 'applied', from_stake: 100 * T, epoch: due + 1 },
    ]);
    expect(
      await sql('SELECT ss.source, ss.amount FROM slash_shares ss JOIN slashes s ON s.id = ss.slash_id WHERE s.node_id = ?', node.nodeId),
    ).toEqual([{ source: 'unbonding', amount: 100 * T }]);
    expect(await sql('SELECT status, amount FROM unbondings WHERE node_id = ?', node.nodeId)).toEqual([
      { status: 'released', amount: 300 * T },
    ]);
    expect(await balanceOf(operator.accountId)).toBe(balance0 + 300 * T);
    const fees = (await sql<{ fees: number }>('SELECT COALESCE(SUM(fees), 0) AS fees FROM epochs'))[0]!.fees;
    expect(await balanceOf('system:community')).toBe(community0 + 100 * T + (fees - Math.floor(fees / 2)));
    await expectLedgerReconciles();
  });
});
