import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../workers/config.ts';
import { formatAmount } from '../../workers/lib/amounts.ts';
import { formatTokens } from '../../workers/explorer/pages/format.ts';
import { api } from './helpers/agent.ts';
import { cronAt, propose, staker, vote } from './helpers/governance.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent, type ReadyNode } from './helpers/jobs.ts';
import { authed, devAccount, sql } from './helpers/staking.ts';

// The explorer's panels with real data made through the real routes and the real cron: a
// verified, staked node with a delegator, a running job and a finished one, an epoch closed by
// the scheduled handler, and an open proposal with votes. Numbers on the pages are checked
// against the rows those flows wrote.

const page = async (path: string) => {
  const res = await api(path, { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  return res.text();
};
const tokens = (baseUnits: number) => formatTokens(formatAmount(baseUnits, getConfig(env).TOKEN_DECIMALS));

describe('explorer panels with data', () => {
  let node: ReadyNode;
  let delegatorId: string;
  let runningId: string;
  let finishedId: string;
  let proposalNumber: number;

  beforeAll(async () => {
    node = await nodeAt(52.52, 13.4, 'DE', { name: 'berlin-rig' });
    const delegator = await devAccount(100);
    delegatorId = delegator.accountId;
    expect((await authed(delegator, 'POST', '/v1/staking/delegate', { nodeId: node.nodeId, amount: '75' })).status).toBe(201);

    const renter = await newRenter('100.000000');
    const start = async () => {
      const job = await json(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 600, client: { lat: 52.5, lon: 13.4 } })), 201);
      expect(job.nodeId).toBe(node.nodeId);
      expect((await json(await sendEvent(node, job.id, { kind: 'accepted' }), 200)).status).toBe('starting');
      expect((await json(await sendEvent(node, job.id, { kind: 'started' }), 200)).status).toBe('running');
      return job.id as string;
    };
    finishedId = await start();
    const done = await sendEvent(node, finishedId, {
      kind: 'finished',
      exitCode: 0,
      reason: 'exited',
      receipt: { gpuSeconds: 1, runSeconds: 1 },
    });
    expect(done.status).toBe(200);
    runningId = await start();

    // The node was online for the last epoch; the real scheduled handler closes it.
    await env.DB.prepare('UPDATE nodes SET online_ms = online_ms + 3600000 WHERE id = ?1').bind(node.nodeId).run();
    await cronAt(Date.now());

    const voter = await staker(2000);
    const proposal = await propose(voter, { kind: 'text', title: 'Raise <the> bar & more' });
    proposalNumber = proposal.number;
    expect((await vote(voter, proposal, 'yes')).status).toBeLessThan(300);
  });

  it('/ counts running jobs and utilisation from the jobs tables', async () => {
    const text = await page('/');
    const [running] = await sql<{ n: number }>(`SELECT count(*) AS n FROM jobs WHERE status IN ('starting', 'running')`);
    expect(running!.n).toBe(1);
    expect(text).toMatch(/data-stat="jobsRunning">1</);
    expect(text).toContain('1 job running right now.');
    const [gpus] = await sql<{ online: number; committed: number }>(
      `SELECT (SELECT sum(g.count) FROM node_gpus g JOIN nodes n ON n.id = g.node_id WHERE n.status = 'online') AS online,
              (SELECT sum(count) FROM gpu_commitments) AS committed`,
    );
    expect(gpus!.committed).toBe(1);
    expect(text).toContain(`data-stat="utilisation">${(Math.round((gpus!.committed / gpus!.online) * 1000) / 10).toFixed(1)}%<`);
  });

  it('/ charts the closed epoch: rewards credited, burn and minted emission', async () => {
    const text = await page('/');
    const [epoch] = await sql<{ epoch: number; minted: number; burned: number }>(
      `SELECT epoch, minted, burned FROM epochs WHERE status = 'closed'`,
    );
    expect(epoch).toBeDefined();
    const [credited] = await sql<{ total: number }>('SELECT sum(amount) AS total FROM epoch_credits WHERE epoch = ?', epoch!.epoch);
    expect(epoch!.minted).toBeGreaterThan(0);
    expect(credited!.total).toBeGreaterThan(0);
    expect(text).toContain('<svg class="chart"');
    expect(text).toContain(
      `<tr><th scope="row">${epoch!.epoch}</th><td>${tokens(credited!.total)}</td><td>${tokens(epoch!.burned)}</td><td>${tokens(epoch!.minted)}</td></tr>`,
    );
  });

  it('/ lists the open proposal with its tally and quorum, its title escaped', async () => {
    const text = await page('/');
    expect(text).toContain(`#${proposalNumber} Raise &lt;the&gt; bar &amp; more`);
    expect(text).toContain(`yes ${tokens(2_000_000_000)} · no 0.00 · abstain 0.00 · quorum reached`);
  });

  it('/nodes/{id} shows verification, stake and stakers, recent jobs without renter data, and rewards', async () => {
    const text = await page(`/nodes/${node.nodeId}`);
    // Verification: the passed registration challenge.
    expect(text).toMatch(/<td>registration<\/td><td>passed<\/td>/);
    // Stake: operator's bond plus the delegator's 75.
    const stakes = await sql<{ account_id: string; amount: number }>(
      'SELECT account_id, amount FROM stakes WHERE node_id = ? ORDER BY amount DESC',
      node.nodeId,
    );
    expect(stakes).toHaveLength(2);
    const total = stakes.reduce((s, r) => s + r.amount, 0);
    expect(text).toContain(`${tokens(total)} tokens bonded by 2 stakers.`);
    expect(text).toContain(`<code>${delegatorId.slice(0, 8)}…${delegatorId.slice(-4)}</code></th><td class="n">75.00</td>`);
    expect(text).not.toContain(delegatorId);
    // Jobs: id prefixes and status, nothing the renter sent.
    expect(text).toMatch(new RegExp(`<code>${runningId.slice(0, 8)}</code></th><td>running</td><td class="n">1</td>`));
    expect(text).toMatch(
      new RegExp(
        `<code>${finishedId.slice(0, 8)}</code></th><td>succeeded</td><td class="n">1</td><td class="n">\\d+ s</td><td>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC</td>`,
      ),
    );
    for (const secret of ['python:3.12-slim', 'hf_supersecretvalue', 'HF_TOKEN', 'print(1)', runningId, finishedId])
      expect(text).not.toContain(secret);
    // Rewards: the closed epoch's row for this node.
    const [reward] = await sql<{ epoch: number; net_reward: number; capacity_reward: number }>(
      'SELECT epoch, net_reward, capacity_reward FROM epoch_nodes WHERE node_id = ?',
      node.nodeId,
    );
    expect(reward!.net_reward).toBeGreaterThan(0);
    expect(text).toContain(`<tr><th scope="row">${reward!.epoch}</th><td class="n">${tokens(reward!.capacity_reward)}</td>`);
    expect(text).toContain(`<td class="n">${tokens(reward!.net_reward)}</td></tr>`);
  });
});
