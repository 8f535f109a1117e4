import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api } from './helpers/agent.ts';
import { cronAt, DAY_MS, propose, staker, vote } from './helpers/governance.ts';
import { expectLedgerReconciles } from './helpers/ledger.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent } from './helpers/jobs.ts';
import { sql } from './helpers/staking.ts';

// Governance's parameters reach jobs and staking: an executed `param` proposal changes the fee
// of the next bill and the stake a node needs to get jobs. Proposals execute first (the cron
// runs days ahead), then the nodes and jobs are made at the real time.

async function enact(name: string, value: string): Promise<void> {
  const proposer = await staker(3000);
  const p = await propose(proposer, { kind: 'param', title: `Set ${name}`, param: { name, value } });
  expect((await vote(proposer, p, 'yes')).status).toBe(200);
  const end = Date.parse(p.votingEndsAt);
  await cronAt(end);
  await cronAt(end + DAY_MS);
  const row = await env.DB.prepare('SELECT status FROM proposals WHERE id = ?').bind(p.id).first<{ status: string }>();
  expect(row!.status).toBe('executed');
}

describe('parameters in jobs and staking', () => {
  it('bills a job with the protocol fee an executed proposal set', async () => {
    await enact('protocol_fee_bps', '2500');
    const node = await nodeAt(47.37, 8.54, 'CH', { pricePerGpuHour: '3.600000' });
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 47.4, lon: 8.5 } })), 201);
    expect(created.nodeId).toBe(node.nodeId);
    await sendEvent(node, created.id, { kind: 'accepted' });
    await sendEvent(node, created.id, { kind: 'started' });
    const done = await json(
      await sendEvent(node, created.id, { kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 1, runSeconds: 1 } }),
      200,
    );
    expect(done.status).toBe('succeeded');
    // 1 GPU-second at 3.6 tokens per hour is 1,000 base units; the fee is now 25%, not the configured 10%.
    const view = await json(await renter.call('GET', `/v1/jobs/${created.id}`), 200);
    expect(view.billing).toMatchObject({ billedGpuSeconds: 1, captured: '0.001000', fee: '0.000250', operator: '0.000750' });
    await expectLedgerReconciles();
  });

  it('takes nodes below a raised minimum stake per GPU out of quotes at once', async () => {
    const node = await nodeAt(59.91, 10.75, 'NO'); // staked at today's minimum: 2 GPUs × 200 tokens
    const quoted = async () =>
      (
        await json(
          await api('/v1/quotes', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ gpu: { model: '4090', count: 1 }, durationS: 60, client: { lat: 59.9, lon: 10.7 } }),
          }),
          200,
        )
      ).candidates.map((c: { nodeId: string }) => c.nodeId) as string[];
    expect(await quoted()).toContain(node.nodeId);
    await enact('min_stake_per_gpu', '250');
    expect(await sql<{ eligible: number }>('SELECT eligible FROM nodes WHERE id = ?', node.nodeId)).toEqual([{ eligible: 0 }]);
    expect(await quoted()).not.toContain(node.nodeId);
  });
});
