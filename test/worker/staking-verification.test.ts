import { describe, expect, it } from 'vitest';
import { answerChallenge, issueChallenge, pollChallenges } from '../../workers/verification/challenges.service.ts';
import { solveChallenge } from '../../protocol/matmul-challenge.ts';
import { api, errorOf } from './helpers/agent.ts';
import { testDb } from './helpers/ledger.ts';
import { answer, devAccount, fetchChallenge, ownedNode, sql, testConfig, verifyNode } from './helpers/staking.ts';

describe('hardware verification', () => {
  it('a node that claims an H100 but computes on a CPU misses the deadline and stays unverified', async () => {
    const owner = await devAccount();
    const liar = await ownedNode(owner, { gpus: [{ model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 1 }] });
    // Production-shaped challenge, scaled down so the test's CPU work takes a fraction of a second:
    // 4 products of 64×64 is 2 M int operations; an H100 at 400 TOP/s needs well under 1 ms.
    const config = testConfig({ VERIFY_MATRIX_N: 64, VERIFY_PRODUCTS: 4, VERIFY_OVERHEAD_MS: 0 });
    const db = testDb();
    // Set aside the full-size registration challenge; this test issues its own, smaller one.
    await sql(`UPDATE challenges SET status = 'failed', failure = 'test' WHERE node_id = ?`, liar.nodeId);
    const issued = await issueChallenge(db, config, liar.nodeId, 'random', Date.now());
    expect(issued).toMatchObject({ simulated: false, n: 64, products: 4 });
    expect(issued.deadlineMs).toBeLessThanOrEqual(2);
    const [delivered] = await pollChallenges(db, config, liar.nodeId, Date.now());
    const digests = await solveChallenge(delivered!); // correct, but on a CPU
    // Sent over the signed route like any answer; the route judges on its own receive time.
    const outcome = await answer(liar, { ...delivered!, kind: 'matmul-int8-v1' }, digests);
    expect(outcome.body).toMatchObject({ status: 'failed', failure: 'deadline' });
    expect((outcome.body as unknown as { elapsedMs: number }).elapsedMs).toBeGreaterThan(issued.deadlineMs);
    const [node] = await sql<{ verified_at: number | null; eligible: number }>(
      'SELECT verified_at, eligible FROM nodes WHERE id = ?',
      liar.nodeId,
    );
    expect(node).toEqual({ verified_at: null, eligible: 0 });

    // The same answer within a generous deadline passes: the digests were right, the speed was not.
    const relaxed = testConfig({ VERIFY_MATRIX_N: 64, VERIFY_PRODUCTS: 4, VERIFY_OVERHEAD_MS: 60_000 });
    await issueChallenge(db, relaxed, liar.nodeId, 'retry', Date.now());
    const [again] = await pollChallenges(db, relaxed, liar.nodeId, Date.now());
    const ok = await answerChallenge(
      db,
      relaxed,
      liar.nodeId,
      again!.id,
      btoa(String.fromCharCode(...(await solveChallenge(again!)))),
      Date.now(),
    );
    expect(ok.status).toBe('passed');
  });

  it('refuses wrong digests, counts failures in the window, and records one slash with the evidence', async () => {
    const owner = await devAccount();
    const node = await ownedNode(owner);
    for (let i = 0; i < 3; i++) {
      const challenge = await fetchChallenge(node);
      expect(challenge).toMatchObject({ kind: 'matmul-int8-v1', simulated: true, n: 64, products: 1 });
      const bogus = new Uint8Array(challenge!.n * 8).fill(i + 1);
      const result = await answer(node, challenge!, bogus);
      expect(result.body).toMatchObject({ status: 'failed', failure: 'wrong_answer' });
    }
    const slashes = (await (await api(`/v1/staking/slashes?nodeId=${node.nodeId}`)).json()) as {
      slashes: { offence: string; amount: string; status: string; evidence: { failedChallenges: unknown[]; threshold: number } }[];
    };
    expect(slashes.slashes).toHaveLength(1);
    expect(slashes.slashes[0]).toMatchObject({ offence: 'failed_verification', amount: '40.000000', status: 'pending' });
    expect(slashes.slashes[0]!.evidence.failedChallenges).toHaveLength(3);
    // A fourth failure in the same window is not a second slash; the node can still pass.
    const fourth = await fetchChallenge(node);
    await answer(node, fourth!, new Uint8Array(fourth!.n * 8));
    expect(((await (await api(`/v1/staking/slashes?nodeId=${node.nodeId}`)).json()) as { slashes: unknown[] }).slashes).toHaveLength(1);
    await verifyNode(node);
  });

  it('a challenge is answered once, by its node, in the right shape', async () => {
    const owner = await devAccount();
    const node = await ownedNode(owner);
    const other = await ownedNode(owner);
    const challenge = await fetchChallenge(node);
    const again = await fetchChallenge(node);
    expect(again!.id).toBe(challenge!.id); // polling again does not restart the clock
    const stolen = await other.send('POST', `/v1/nodes/${node.nodeId}/challenges/${challenge!.id}/answer`, { digests: '' });
    expect((await errorOf(stolen)).code).toBe('wrong_node');
    const malformed = await answer(node, challenge!, new Uint8Array(7));
    expect(malformed.body).toMatchObject({ status: 'failed', failure: 'malformed_answer' });
    const late = await answer(node, challenge!, await solveChallenge(challenge!));
    expect(late.status).toBe(409);
  });

  it('re-registering with other GPUs drops verification until the new inventory passes', async () => {
    const owner = await devAccount();
    const node = await ownedNode(owner);
    await verifyNode(node);
    expect((await sql<{ v: number | null }>('SELECT verified_at AS v FROM nodes WHERE id = ?', node.nodeId))[0]!.v).not.toBeNull();
    // Same GPUs again: still verified, no challenge.
    await node.send('POST', '/v1/nodes', {
      owner: owner.wallet,
      name: 'rig-1',
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }],
      location: { lat: 35.68, lon: 139.69, country: 'JP' },
      pricePerGpuHour: '1.250000',
      agentVersion: '0.1.0',
    });
    expect(await fetchChallenge(node)).toBeUndefined();
    await node.send('POST', '/v1/nodes', {
      owner: owner.wallet,
      name: 'rig-1',
      gpus: [{ model: 'NVIDIA H100 80GB HBM3', vramMb: 81559, count: 8, simulated: true }],
      location: { lat: 35.68, lon: 139.69, country: 'JP' },
      pricePerGpuHour: '1.250000',
      agentVersion: '0.1.0',
    });
    expect((await sql<{ v: number | null }>('SELECT verified_at AS v FROM nodes WHERE id = ?', node.nodeId))[0]!.v).toBeNull();
    const challenge = await fetchChallenge(node);
    expect(challenge).toBeDefined();
    await answer(node, challenge!, await solveChallenge(challenge!));
    expect((await sql<{ v: number | null }>('SELECT verified_at AS v FROM nodes WHERE id = ?', node.nodeId))[0]!.v).not.toBeNull();
  });
});
