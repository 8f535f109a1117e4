import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { castVote } from '../../workers/governance/governance.service.ts';
import { errorOf } from './helpers/agent.ts';
import { apiAs, bond, cronAt, propose, show, staker, TOKEN, vote } from './helpers/governance.ts';
import { testDb } from './helpers/ledger.ts';

// Voting: snapshot weighting, one replaceable vote per account, votes after close.
// Power is bonded stake at the snapshot (config defaults: 1000-token minimum to propose, 10%
// quorum, yes must beat 50% of yes+no, 3-day vote).

const tokens = (s: string) => Math.round(Number(s) * TOKEN);

describe('governance: voting', () => {
  it('weights votes by the snapshot: stake bonded after opening gains nothing, and latecomers have no vote', async () => {
    const proposer = await staker(1000, 6000);
    const whale = await staker(0, 50_000);
    const p = await propose(proposer, { kind: 'text', title: 'Prefer open-weight models' });
    const total = tokens(p.snapshot.totalPower);
    expect(total).toBeGreaterThanOrEqual(1000 * TOKEN);

    await bond(proposer.accountId, 5000); // after the snapshot
    await bond(whale.accountId, 40_000);
    const res = await vote(proposer, p, 'yes');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { vote: { power: string } };
    expect(body.vote.power).toBe('1000.000000');

    const late = await vote(whale, p, 'no');
    expect(await errorOf(late)).toMatchObject({ status: 403, code: 'no_voting_power' });
    const now = await show(p);
    expect(now.tally).toMatchObject({ yes: '1000.000000', no: '0.000000', voters: 1 });
    expect(now.snapshot.totalPower).toBe(p.snapshot.totalPower);
  });

  it('keeps one vote per account: a later vote replaces the earlier one', async () => {
    const a = await staker(1200);
    const b = await staker(300);
    const p = await propose(a, { kind: 'text', title: 'One vote each' });
    expect((await vote(b, p, 'yes')).status).toBe(200);
    const second = await vote(b, p, 'no');
    expect(((await second.json()) as { vote: { replaced: boolean } }).vote.replaced).toBe(true);
    const third = await vote(b, p, 'abstain');
    expect(third.status).toBe(200);
    const now = await show(p);
    expect(now.tally).toMatchObject({ yes: '0.000000', no: '0.000000', abstain: '300.000000', voters: 1 });
    const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM votes WHERE proposal_id = ?1').bind(p.id).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it('refuses to open a proposal below the minimum stake, and bad input, changing nothing', async () => {
    const small = await staker(999);
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM proposals').first<{ n: number }>();
    expect(await errorOf(await apiAs(small, 'POST', '/v1/governance/proposals', { kind: 'text', title: 'Too small' }))).toMatchObject({
      status: 403,
      code: 'insufficient_stake',
    });
    const big = await staker(1000);
    expect(
      await errorOf(
        await apiAs(big, 'POST', '/v1/governance/proposals', { kind: 'param', title: 'Bad param', param: { name: 'nope', value: '1' } }),
      ),
    ).toMatchObject({
      status: 400,
      code: 'unknown_param',
    });
    expect(
      await errorOf(
        await apiAs(big, 'POST', '/v1/governance/proposals', {
          kind: 'param',
          title: 'Out of bounds',
          param: { name: 'protocol_fee_bps', value: '9000' },
        }),
      ),
    ).toMatchObject({ status: 400, code: 'invalid_param_value' });
    expect(await errorOf(await apiAs(null, 'POST', '/v1/governance/proposals', { kind: 'text', title: 'No key' }))).toMatchObject({
      status: 401,
    });
    const after = await env.DB.prepare('SELECT COUNT(*) AS n FROM proposals').first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });

  it('refuses votes after the voting period, before and after the cron closes the proposal', async () => {
    const proposer = await staker(1000);
    const p = await propose(proposer, { kind: 'text', title: 'Closing time' });
    const end = Date.parse(p.votingEndsAt);
    const db = testDb();
    await expect(castVote(db, { proposalId: p.id, accountId: proposer.accountId, choice: 'yes', via: 'api' }, end)).rejects.toMatchObject({
      status: 409,
      code: 'voting_closed',
    });
    await cronAt(end + 1);
    expect((await show(p)).status).toBe('rejected');
    expect(await errorOf(await vote(proposer, p, 'yes'))).toMatchObject({ status: 409, code: 'voting_closed' });
    expect((await show(p)).tally.voters).toBe(0);
  });
});
