import { describe, expect, it } from 'vitest';
import { cronAt, DAY_MS, propose, show, staker, vote } from './helpers/governance.ts';

// Quorum and threshold with a known snapshot: this file's storage holds only these stakers.
// Total 10,500 tokens; quorum 10% = 1,050; yes must be more than half of yes + no.

describe('governance: outcomes', () => {
  it('rejects without quorum, passes with a majority, and rejects a tie', async () => {
    const a = await staker(1000);
    const b = await staker(1000);
    const c = await staker(8000);
    await staker(500);
    const noQuorum = await propose(a, { kind: 'text', title: 'Quorum missed' });
    const majority = await propose(a, { kind: 'text', title: 'Majority' });
    const tie = await propose(a, { kind: 'text', title: 'A tie' });
    expect(noQuorum.snapshot.totalPower).toBe('10500.000000');

    expect((await vote(a, noQuorum, 'yes')).status).toBe(200); // 1000 < 1050
    for (const [s, choice] of [
      [a, 'yes'],
      [b, 'no'],
      [c, 'yes'],
    ] as const)
      expect((await vote(s, majority, choice)).status).toBe(200);
    expect((await vote(a, tie, 'yes')).status).toBe(200);
    expect((await vote(b, tie, 'no')).status).toBe(200);

    // One minute before the end nothing closes; at the end all three do.
    const end = Date.parse(noQuorum.votingEndsAt);
    await cronAt(end - 60_000);
    expect((await show(majority)).status).toBe('open');
    await cronAt(Date.parse(tie.votingEndsAt));

    expect(await show(noQuorum)).toMatchObject({ status: 'rejected', outcomeReason: 'no_quorum' });
    const passed = await show(majority);
    expect(passed).toMatchObject({ status: 'passed', outcomeReason: 'passed', tally: { yes: '9000.000000', no: '1000.000000' } });
    expect(Date.parse(passed.executableAt!)).toBe(Date.parse(majority.votingEndsAt) + DAY_MS);
    expect(await show(tie)).toMatchObject({ status: 'rejected', outcomeReason: 'tie', tally: { yes: '1000.000000', no: '1000.000000' } });
  });
});
