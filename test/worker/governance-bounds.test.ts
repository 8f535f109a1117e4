import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../workers/config.ts';
import { executeDueProposals } from '../../workers/governance/lifecycle.ts';
import { getParams, invalidateParams } from '../../workers/governance/params.repo.ts';
import { errorOf } from './helpers/agent.ts';
import { apiAs, cronAt, DAY_MS, propose, show, staker, vote } from './helpers/governance.ts';
import { testDb } from './helpers/ledger.ts';
import { testConfig } from './helpers/staking.ts';

// Governance cannot switch itself off: every parameter has safe bounds, checked when a proposal
// opens and again when it executes, and changes to governance's own rules need a supermajority
// and a longer timelock. Defaults: quorum 10%, threshold 50%, timelock 1 day, vote 3 days.

const count = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM proposals').first<{ n: number }>())!.n;

describe('governance: parameter bounds', () => {
  it('refuses every value outside its bounds at creation with 400 invalid_param_value, changing nothing', async () => {
    const proposer = await staker(2000);
    const before = await count();
    const outside: [string, string][] = [
      ['min_stake_per_gpu', '0'], // nodes with nothing at risk would be eligible
      ['min_stake_per_gpu', '0.5'],
      ['unbonding_days', '0'], // stake released in the close that would slash it
      ['unbonding_days', '1'], // shorter than the failed-verification window plus two epochs
      ['quorum_bps', '999'], // a holder of under 10% could pass a proposal alone
      ['quorum_bps', '5001'], // apathy could stop every proposal
      ['threshold_bps', '4999'], // a minority of the decisive votes could pass
      ['threshold_bps', '7501'], // a small minority could block everything
      ['voting_period_s', '86399'],
      ['voting_period_s', '2592001'],
      ['timelock_s', '0'],
      ['timelock_s', '86399'],
      ['commission_cap_bps', '5001'],
      ['commission_cap_bps', '10000'],
      ['proposal_min_stake', '0'],
      ['proposal_min_stake', '100000.000001'], // nobody could open a proposal any more
      ['work_reward_fee_multiple_bps', '10001'], // farming would pay
    ];
    for (const [name, value] of outside) {
      const res = await apiAs(proposer, 'POST', '/v1/governance/proposals', {
        kind: 'param',
        title: `Set ${name}`,
        param: { name, value },
      });
      const error = await errorOf(res);
      expect({ name, value, ...error }).toMatchObject({ name, value, status: 400, code: 'invalid_param_value' });
      expect(error.message).toMatch(/must be between/);
    }
    expect(await count()).toBe(before);

    // The bounds themselves are allowed.
    const inside: [string, string][] = [
      ['min_stake_per_gpu', '1'],
      ['unbonding_days', '2'],
      ['quorum_bps', '1000'],
      ['quorum_bps', '5000'],
      ['threshold_bps', '5000'],
      ['threshold_bps', '7500'],
      ['voting_period_s', '86400'],
      ['timelock_s', '86400'],
      ['commission_cap_bps', '5000'],
      ['proposal_min_stake', '100000'],
      ['work_reward_fee_multiple_bps', '10000'],
    ];
    for (const [name, value] of inside) {
      const res = await apiAs(proposer, 'POST', '/v1/governance/proposals', {
        kind: 'param',
        title: `Set ${name}`,
        param: { name, value },
      });
      expect({ name, value, status: res.status }).toEqual({ name, value, status: 201 });
    }
    expect(await count()).toBe(before + inside.length);
  });

  it("needs a supermajority and a longer timelock to change governance's own rules", async () => {
    const a = await staker(6000);
    const b = await staker(4000);
    const own = await propose(a, { kind: 'param', title: 'Quorum 20%', param: { name: 'quorum_bps', value: '2000' } });
    const economy = await propose(a, { kind: 'param', title: 'Fee 5%', param: { name: 'protocol_fee_bps', value: '500' } });
    const alone = await propose(a, { kind: 'param', title: 'Quorum 15%', param: { name: 'quorum_bps', value: '1500' } });
    expect(own.rules).toEqual({ quorumBps: 1000, thresholdBps: 6667, timelockS: 7 * 86_400 });
    expect(economy.rules).toEqual({ quorumBps: 1000, thresholdBps: 5000, timelockS: 86_400 });

    // 60% yes: a majority, not a supermajority.
    for (const p of [own, economy]) {
      expect((await vote(a, p, 'yes')).status).toBe(200);
      expect((await vote(b, p, 'no')).status).toBe(200);
    }
    expect((await vote(a, alone, 'yes')).status).toBe(200);
    const end = Date.parse(alone.votingEndsAt); // opened last, so it closes last
    await cronAt(end);
    expect(await show(own)).toMatchObject({ status: 'rejected', outcomeReason: 'threshold_not_met' });
    expect(await show(economy)).toMatchObject({ status: 'passed' });
    const passed = await show(alone);
    expect(passed.status).toBe('passed');
    expect(Date.parse(passed.executableAt!)).toBe(Date.parse(alone.votingEndsAt) + 7 * DAY_MS);

    // The economy change runs after a day; the rule change waits out its week.
    await cronAt(end + DAY_MS);
    expect((await show(economy)).status).toBe('executed');
    await cronAt(Date.parse(alone.votingEndsAt) + 7 * DAY_MS - 60_000);
    expect((await show(alone)).status).toBe('passed');
    await cronAt(Date.parse(alone.votingEndsAt) + 7 * DAY_MS);
    expect((await show(alone)).status).toBe('executed');
    expect((await getParams(testDb(), getConfig(env), end + 8 * DAY_MS)).quorum_bps).toBe(1500);
  });

  it('refuses at execution a value the bounds in force no longer allow, and changes nothing', async () => {
    const a = await staker(5000);
    const p = await propose(a, { kind: 'param', title: 'Two-day unbonding', param: { name: 'unbonding_days', value: '2' } });
    expect((await vote(a, p, 'yes')).status).toBe(200);
    const end = Date.parse(p.votingEndsAt);
    await cronAt(end);
    expect((await show(p)).status).toBe('passed');

    // A deploy lengthened the failed-verification window to three days meanwhile: a two-day
    // unbonding would now let stake leave before an offence inside that window is slashed.
    const tightened = testConfig({ VERIFY_FAILURE_WINDOW_S: 3 * 86_400 });
    const events = await executeDueProposals(testDb(), tightened, end + DAY_MS);
    expect(events).toContainEqual({ kind: 'failed', proposalId: p.id, reason: 'out_of_bounds' });
    expect(await show(p)).toMatchObject({ status: 'failed', outcomeReason: 'out_of_bounds', executedAt: null });
    const stored = await env.DB.prepare(`SELECT COUNT(*) AS n FROM params WHERE name = 'unbonding_days'`).first<{ n: number }>();
    expect(stored!.n).toBe(0);
    invalidateParams(testDb());
    expect((await getParams(testDb(), getConfig(env), end + DAY_MS)).unbonding_days).toBe(7);

    // Later ticks leave it failed.
    await cronAt(end + 2 * DAY_MS);
    expect((await show(p)).status).toBe('failed');
  });
});
