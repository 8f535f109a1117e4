import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { changeStatements, getJob, reputationStatement, runChange } from '../../workers/jobs/jobs.repo.ts';
import { json, jobBody, newRenter, nodeAt } from './helpers/jobs.ts';
import { testDb } from './helpers/ledger.ts';

// A job's compare-and-swap: of two writers that read the same version, exactly one batch applies.
// The loser's whole batch aborts — its status change and everything riding with it (GPU release,
// reputation, ledger rows) — even though the version it expected to see afterwards now exists,
// written by the winner. (Found by the fault simulator: two overlapping crons both requeued a
// job, and the loser's rows applied.)

const reputation = async (nodeId: string) =>
  (await env.DB.prepare('SELECT reputation FROM nodes WHERE id = ?').bind(nodeId).first<number>('reputation'))!;

describe('job compare-and-swap', () => {
  it('aborts the losing batch of two writers that read the same version', async () => {
    const node = await nodeAt(52.37, 4.9, 'NL');
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 52.4, lon: 4.9 } })), 201);
    const db = testDb();
    const read = (await getJob(db, created.id))!;
    const penalty = { scale: 0.5, add: 0 };
    const before = await reputation(node.nodeId);
    const writer = () =>
      runChange(db, [
        ...changeStatements(db, { job: read, to: 'queued', actor: 'system', reason: 'the node did not accept in time' }, Date.now()),
        reputationStatement(db, node.nodeId, penalty),
      ]);
    expect(await writer()).toEqual({ ok: true });
    expect(await writer()).toEqual({ ok: false, failure: 'conflict' });
    expect(await reputation(node.nodeId)).toBeCloseTo(before * 0.5, 9);
    expect((await getJob(db, created.id))!.version).toBe(read.version + 1);
  });
});
