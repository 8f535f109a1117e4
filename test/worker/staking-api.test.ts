import { describe, expect, it } from 'vitest';
import { api, errorOf } from './helpers/agent.ts';
import { balanceOf, expectLedgerReconciles } from './helpers/ledger.ts';
import { authed, devAccount, ownedNode, sql, verifyNode } from './helpers/staking.ts';

describe('staking routes', () => {
  it('operator stakes, others delegate; eligibility needs verification and the minimum stake per GPU', async () => {
    const operator = await devAccount(1000);
    const delegator = await devAccount(1000);
    const node = await ownedNode(operator);

    const first = await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '300' });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ role: 'operator', nodeStake: '300.000000', eligible: false });

    expect((await errorOf(await authed(delegator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '1' }))).code).toBe(
      'not_operator',
    );
    expect((await errorOf(await authed(operator, 'POST', '/v1/staking/delegate', { nodeId: node.nodeId, amount: '1' }))).code).toBe(
      'operator_cannot_delegate',
    );

    await verifyNode(node);
    // Verified, but 300 < 200 × 2 GPUs: not eligible yet.
    let view = (await (await api(`/v1/nodes/${node.nodeId}`)).json()) as { stake: string; eligible: boolean; verifiedAt: string | null };
    expect(view).toMatchObject({ stake: '300.000000', eligible: false });
    expect(view.verifiedAt).not.toBeNull();

    const delegated = await authed(delegator, 'POST', '/v1/staking/delegate', { nodeId: node.nodeId, amount: '150.5' });
    expect(delegated.status).toBe(201);
    expect(await delegated.json()).toMatchObject({ role: 'delegator', nodeStake: '450.500000', eligible: true });
    view = (await (await api(`/v1/nodes/${node.nodeId}`)).json()) as typeof view;
    expect(view).toMatchObject({ stake: '450.500000', eligible: true });

    expect(await balanceOf(operator.accountId)).toBe(700_000_000);
    expect(await balanceOf(delegator.accountId)).toBe(849_500_000);
    expect(await balanceOf('system:staked')).toBe(450_500_000);

    const stakers = (await (await api(`/v1/staking/nodes/${node.nodeId}`)).json()) as {
      stakers: { accountId: string; role: string; amount: string }[];
    };
    expect(stakers.stakers).toEqual([
      expect.objectContaining({ accountId: operator.accountId, role: 'operator', amount: '300.000000' }),
      expect.objectContaining({ accountId: delegator.accountId, role: 'delegator', amount: '150.500000' }),
    ]);
    await expectLedgerReconciles();
  });

  it('is idempotent per key, refuses a reused key with other parameters, and changes nothing on bad input', async () => {
    const operator = await devAccount(100);
    const node = await ownedNode(operator);
    const send = (amount: string) =>
      authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount }, { 'Idempotency-Key': 'k-1' });
    const a = await send('10');
    const b = await send('10');
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await errorOf(await send('11'))).code).toBe('idempotency_conflict');
    expect((await errorOf(await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '1000' }))).code).toBe(
      'insufficient_funds',
    );
    expect((await errorOf(await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '-1' }))).status).toBe(400);
    expect((await errorOf(await authed(operator, 'POST', '/v1/staking/stake', { nodeId: 'nope', amount: '1' }))).code).toBe(
      'invalid_request',
    );
    expect((await errorOf(await api('/v1/staking/stake', { method: 'POST', body: '{}' }))).code).toBe('unauthorized');
    expect(await balanceOf(operator.accountId)).toBe(90_000_000);
    const [row] = await sql<{ amount: number }>('SELECT amount FROM stakes WHERE node_id = ?', node.nodeId);
    expect(row!.amount).toBe(10_000_000);
  });

  it('unstaking starts unbonding: the stake leaves the node at once, the tokens stay at risk until release', async () => {
    const operator = await devAccount(1000);
    const node = await ownedNode(operator);
    await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '500' });
    await verifyNode(node);
    expect((await errorOf(await authed(operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '500.000001' }))).code).toBe(
      'insufficient_stake',
    );
    const other = await devAccount(10);
    expect((await errorOf(await authed(other, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '1' }))).code).toBe(
      'insufficient_stake',
    );

    const before = Date.now();
    const res = await authed(operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '200' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { unbonding: { amount: string; releaseAt: string; status: string } };
    expect(body.unbonding).toMatchObject({ amount: '200.000000', status: 'unbonding' });
    const releaseAt = Date.parse(body.unbonding.releaseAt);
    expect(releaseAt - before).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(releaseAt - before).toBeLessThan(7 * 86_400_000 + 60_000);
    // 300 left < 400 needed for two GPUs: no longer eligible.
    const view = (await (await api(`/v1/nodes/${node.nodeId}`)).json()) as { stake: string; eligible: boolean };
    expect(view).toMatchObject({ stake: '300.000000', eligible: false });
    expect(await balanceOf('system:unbonding')).toBeGreaterThanOrEqual(200_000_000);
    expect(await balanceOf(operator.accountId)).toBe(500_000_000);
    await expectLedgerReconciles();
  });

  it('commission: only the operator, within the cap, from the next epoch', async () => {
    const operator = await devAccount();
    const someone = await devAccount();
    const node = await ownedNode(operator);
    expect((await errorOf(await authed(someone, 'PUT', `/v1/staking/nodes/${node.nodeId}/commission`, { commissionBps: 500 }))).code).toBe(
      'not_operator',
    );
    expect(
      (await errorOf(await authed(operator, 'PUT', `/v1/staking/nodes/${node.nodeId}/commission`, { commissionBps: 2001 }))).code,
    ).toBe('commission_too_high');
    const res = await authed(operator, 'PUT', `/v1/staking/nodes/${node.nodeId}/commission`, { commissionBps: 1500 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { commissionBps: number; next: { commissionBps: number; fromEpoch: number } };
    expect(body.commissionBps).toBe(1000);
    expect(body.next.commissionBps).toBe(1500);
    expect(body.next.fromEpoch).toBe(Math.floor((Date.now() - 1_767_225_600_000) / 3_600_000) + 1);
  });
});
