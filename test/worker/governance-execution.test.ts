import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../workers/config.ts';
import { COMMUNITY_TREASURY } from '../../workers/governance/community-treasury.ts';
import { executeProposal } from '../../workers/governance/lifecycle.ts';
import { getParams } from '../../workers/governance/params.repo.ts';
import { findProposal } from '../../workers/governance/proposals.repo.ts';
import { apiAs, cronAt, DAY_MS, fundCommunityTreasury, propose, show, staker, TOKEN, vote } from './helpers/governance.ts';
import { balanceOf, expectLedgerReconciles, testDb } from './helpers/ledger.ts';

// Passed proposals wait out the timelock, then execute themselves exactly once from the cron:
// grants through the ledger (from the community treasury), params through the parameter store.

async function ledgerTxCount(key: string): Promise<number> {
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM ledger_transactions WHERE idempotency_key = ?1')
    .bind(key)
    .first<{ n: number }>();
  return row!.n;
}

describe('governance: execution', () => {
  it('executes a grant once, after the timelock, from the community treasury', async () => {
    await fundCommunityTreasury(5000);
    const proposer = await staker(2000);
    const project = await staker(0);
    const p = await propose(proposer, {
      kind: 'grant',
      title: '1,000 GPU-hours for an open model',
      description: 'Training run of an open-weight model',
      grant: { recipient: project.accountId, amount: '1250.5' },
    });
    expect((await vote(proposer, p, 'yes')).status).toBe(200);
    const treasuryBefore = await balanceOf(COMMUNITY_TREASURY);
    const end = Date.parse(p.votingEndsAt);

    await cronAt(end);
    const passed = await show(p);
    expect(passed.status).toBe('passed');
    await cronAt(end + DAY_MS - 1000); // timelock still running
    expect((await show(p)).status).toBe('passed');
    expect(await balanceOf(project.accountId)).toBe(10 * TOKEN);

    await cronAt(end + DAY_MS);
    const executed = await show(p);
    expect(executed.status).toBe('executed');
    expect(executed.executionTransactionId).toMatch(/^tx_/);
    expect(await balanceOf(project.accountId)).toBe(10 * TOKEN + 1_250_500_000);
    expect(await balanceOf(COMMUNITY_TREASURY)).toBe(treasuryBefore - 1_250_500_000);

    // Again from the cron, and twice at once from a stale read: nothing moves a second time.
    await cronAt(end + DAY_MS + 60_000);
    const stale = { ...(await findProposal(testDb(), p.id))!, status: 'passed' as const };
    const config = getConfig(env);
    const results = await Promise.all([
      executeProposal(testDb(), config, stale, end + 2 * DAY_MS),
      executeProposal(testDb(), config, stale, end + 2 * DAY_MS),
    ]);
    expect(results).toEqual([null, null]);
    expect(await ledgerTxCount(`proposal:${p.id}:execute`)).toBe(1);
    expect(await balanceOf(project.accountId)).toBe(10 * TOKEN + 1_250_500_000);
    expect((await show(p)).executedAt).toBe(executed.executedAt);
    await expectLedgerReconciles();
  });

  it('fails a grant the treasury cannot cover, once, moving nothing', async () => {
    const proposer = await staker(2000);
    const project = await staker(0);
    const treasury = await balanceOf(COMMUNITY_TREASURY);
    const p = await propose(proposer, {
      kind: 'grant',
      title: 'More than the treasury holds',
      grant: { recipient: project.accountId, amount: String(treasury / TOKEN + 1) },
    });
    await vote(proposer, p, 'yes');
    const end = Date.parse(p.votingEndsAt);
    await cronAt(end);
    await cronAt(end + DAY_MS);
    expect(await show(p)).toMatchObject({ status: 'failed', outcomeReason: 'insufficient_treasury' });
    expect(await balanceOf(COMMUNITY_TREASURY)).toBe(treasury);
    expect(await ledgerTxCount(`proposal:${p.id}:execute`)).toBe(0);
  });

  it('changes a parameter once, after the timelock, and everything that reads parameters sees it', async () => {
    const proposer = await staker(3000);
    const config = getConfig(env);
    expect((await getParams(testDb(), config)).voting_period_s).toBe(config.GOVERNANCE_VOTING_PERIOD_S);
    // One of governance's own rules: it waits out the longer timelock of a rule change (7 days).
    const p = await propose(proposer, { kind: 'param', title: 'Shorter votes', param: { name: 'voting_period_s', value: '86400' } });
    expect(p.rules).toMatchObject({ timelockS: 7 * 86_400 });
    await vote(proposer, p, 'yes');
    const end = Date.parse(p.votingEndsAt);
    await cronAt(end);
    await cronAt(end + 7 * DAY_MS - 1);
    expect((await getParams(testDb(), config, end + 7 * DAY_MS)).voting_period_s).toBe(config.GOVERNANCE_VOTING_PERIOD_S);

    await cronAt(end + 7 * DAY_MS);
    expect((await show(p)).status).toBe('executed');
    const res = await apiAs(null, 'GET', '/v1/governance/params');
    const { params } = (await res.json()) as { params: { name: string; value: unknown; source: unknown }[] };
    const row = params.find((x) => x.name === 'voting_period_s')!;
    expect(row.value).toBe(86_400);
    expect(row.source).toMatchObject({ proposalId: p.id });
    const stored = await env.DB.prepare('SELECT updated_at FROM params WHERE name = ?1')
      .bind('voting_period_s')
      .first<{ updated_at: number }>();

    // The next proposal opens with the new voting period.
    const next = await propose(proposer, { kind: 'text', title: 'Uses the new period' });
    expect(Date.parse(next.votingEndsAt) - Date.parse(next.openedAt as string)).toBe(86_400 * 1000);

    // A second execution changes nothing.
    const stale = { ...(await findProposal(testDb(), p.id))!, status: 'passed' as const };
    expect(await executeProposal(testDb(), config, stale, end + 9 * DAY_MS)).toBeNull();
    await cronAt(end + 9 * DAY_MS);
    const again = await env.DB.prepare('SELECT updated_at FROM params WHERE name = ?1')
      .bind('voting_period_s')
      .first<{ updated_at: number }>();
    expect(again!.updated_at).toBe(stored!.updated_at);
  });
});
