import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '../../db/schema/jobs.ts';
import { edgeKeys } from '../../workers/jobs/job-state.ts';

// The SQL guard on jobs.status and the pure state machine list the same edges: every pair of
// statuses is tried against the trigger and compared with JOB_EDGES.

async function insertJob(id: string, status: string) {
  await env.DB.prepare(
    `INSERT INTO jobs (id, account_id, request_hash, status, last_actor, last_reason, request, gpu_count, duration_s, client_lat, client_lon,
       image, escrow_price, escrow_amount, queue_deadline, created_at, updated_at)
     VALUES (?1, 'acc_x', 'h', ?2, 'test', 'seed', '{}', 1, 60, 0, 0, 'img', 1, 1, 0, 0, 0)`,
  )
    .bind(id, status)
    .run();
}

describe('the SQL guard on job status', () => {
  it('allows exactly the edges of the state machine', async () => {
    const allowed: string[] = [];
    let n = 0;
    for (const from of JOB_STATUSES) {
      for (const to of JOB_STATUSES) {
        if (from === to) continue;
        const id = `job_edge_${n++}`;
        await insertJob(id, from);
        try {
          await env.DB.prepare('UPDATE jobs SET status = ?2 WHERE id = ?1').bind(id, to).run();
          allowed.push(`${from}>${to}`);
        } catch (error) {
          expect(String(error)).toMatch(/illegal_job_transition/);
        }
      }
    }
    expect(allowed.sort()).toEqual(edgeKeys().sort());
  });

  it('logs every transition, including the insert', async () => {
    await insertJob('job_logged', 'queued');
    await env.DB.prepare(
      "UPDATE jobs SET status = 'assigned', last_actor = 'system', last_reason = 'placed', updated_at = 5 WHERE id = 'job_logged'",
    ).run();
    const rows = await env.DB.prepare(
      "SELECT from_status, to_status, actor, reason, at FROM job_transitions WHERE job_id = 'job_logged' ORDER BY id",
    ).all();
    expect(rows.results).toEqual([
      { from_status: null, to_status: 'queued', actor: 'test', reason: 'seed', at: 0 },
      { from_status: 'queued', to_status: 'assigned', actor: 'system', reason: 'placed', at: 5 },
    ]);
  });
});
