import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv, Db } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { emitAlert } from '../alerts/emit-alert.ts';
import { AppError } from '../errors.ts';
import { jsonBody, validate } from '../http/body.ts';
import { handleFault, type JobsContext } from '../jobs/jobs.service.ts';
import { getJob, type JobRow } from '../jobs/jobs.repo.ts';
import { nonceHomeOf, shardFor } from '../live/shard-stub.ts';
import { refreshEligibility } from '../staking/eligibility.ts';
import { nodeIdSchema } from './node-input.schema.ts';

// An admin suspends a node (`POST /v1/admin/nodes/{id}/suspend`, README.md) and lifts it again
// (`…/unsuspend`). Suspended:
// - no jobs and no rewards: `nodes.suspended` clears `eligible` in the same batch, and quotes,
//   placement and the epoch snapshot read `eligible` (and `suspended`);
// - every signed request of the node's key gets 403 node_suspended: the flag is copied to the
//   node's nonce home (a NodeShard), where every signed request is admitted, so heartbeats never
//   read D1 for it; registration also reads D1, so the key cannot register again as "new";
// - its placed jobs are taken away as a fault: not yet running → requeued elsewhere; running →
//   failed with the renter refunded in full (the suspension says its work cannot be trusted;
//   no slash, the admin's decision is not the node's offence);
// - its open job streams are closed, and its operator gets a `node_suspended` alert.
// Both routes are idempotent: a repeat, or a retry after a failure half-way, finishes the work
// (shard flag, jobs, alert) without a second event or alert. The job sweeper also takes jobs
// still placed on a suspended node, in case a call died before it handled them.

const suspendSchema = z.strictObject({
  reason: z.string().trim().min(1, 'must say why').max(500, 'must be at most 500 characters'),
});

/** A node has at most a few placed jobs; the sweeper takes any beyond this. */
const JOBS_PER_CALL = 100;

export const adminNodesApp = new Hono<AppEnv>()
  .use(requireAdmin)
  .post('/:nodeId/suspend', async (c) => {
    const nodeId = validate(nodeIdSchema, c.req.param('nodeId'));
    const { reason } = await jsonBody(c, suspendSchema);
    const result = await suspendNode({ db: c.var.db, env: c.env, config: c.var.config }, nodeId, reason, Date.now());
    return c.json(result);
  })
  .post('/:nodeId/unsuspend', async (c) => {
    const nodeId = validate(nodeIdSchema, c.req.param('nodeId'));
    return c.json(await unsuspendNode({ db: c.var.db, env: c.env, config: c.var.config }, nodeId, Date.now()));
  });

export interface SuspendResult {
  nodeId: string;
  suspended: true;
  reason: string;
  suspendedAt: string;
  jobs: { requeued: number; failed: number };
}

export async function suspendNode(ctx: JobsContext, nodeId: string, reason: string, nowMs: number): Promise<SuspendResult> {
  await requireNode(ctx.db, nodeId);
  const client = ctx.db.$client;
  // One batch: the event (only when this call suspends), the flag, and eligibility from the flag.
  await client.batch([
    client
      .prepare(
        `INSERT INTO node_events (node_id, kind, at, detail)
         SELECT id, 'suspended', ?2, ?3 FROM nodes WHERE id = ?1 AND suspended = 0`,
      )
      .bind(nodeId, nowMs, JSON.stringify({ reason })),
    client.prepare('UPDATE nodes SET suspended = 1, updated_at = ?2 WHERE id = ?1 AND suspended = 0').bind(nodeId, nowMs),
    refreshEligibility(ctx.db, ctx.config, [nodeId]),
  ]);
  const event = await latestSuspension(ctx.db, nodeId);
  // The agent's requests are refused from here on; then its jobs are taken (a stop is pushed on
  // its streams), and only then are the streams closed.
  await nonceHomeOf(ctx.env, nodeId).setSuspended(nodeId, true, nowMs);
  const jobs = await takeJobs(ctx, nodeId, nowMs);
  await shardFor(ctx.env, nodeId).closeStreams(nodeId, 'node suspended');
  // One alert per suspension: the event row's id names it, so a repeated call alerts nothing new.
  await emitAlert(ctx.env, { eventId: `node_suspended:${event.id}`, kind: 'node_suspended', nodeId, at: event.at, data: { reason: event.reason } });
  return { nodeId, suspended: true, reason: event.reason, suspendedAt: new Date(event.at).toISOString(), jobs };
}

export async function unsuspendNode(ctx: { db: Db; env: Env; config: Config }, nodeId: string, nowMs: number): Promise<{ nodeId: string; suspended: false }> {
  await requireNode(ctx.db, nodeId);
  const client = ctx.db.$client;
  await client.batch([
    client
      .prepare(`INSERT INTO node_events (node_id, kind, at, detail) SELECT id, 'unsuspended', ?2, '{}' FROM nodes WHERE id = ?1 AND suspended = 1`)
      .bind(nodeId, nowMs),
    client.prepare('UPDATE nodes SET suspended = 0, updated_at = ?2 WHERE id = ?1 AND suspended = 1').bind(nodeId, nowMs),
    refreshEligibility(ctx.db, ctx.config, [nodeId]),
  ]);
  await nonceHomeOf(ctx.env, nodeId).setSuspended(nodeId, false, nowMs);
  return { nodeId, suspended: false };
}

/** Placed jobs of suspended nodes, for the sweeper (the (status, …) index, then the node's flag). */
export async function jobsOnSuspendedNodes(db: Db, limit: number): Promise<(JobRow & { nodeId: string })[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT j.id FROM jobs j JOIN nodes n ON n.id = j.node_id
       WHERE j.status IN ('assigned', 'starting', 'running') AND n.suspended = 1 LIMIT ?1`,
    )
    .bind(limit)
    .all<{ id: string }>();
  const rows = await Promise.all(results.map((r) => getJob(db, r.id)));
  return rows.filter((j): j is JobRow & { nodeId: string } => j !== undefined && j.nodeId !== null);
}

async function takeJobs(ctx: JobsContext, nodeId: string, nowMs: number): Promise<{ requeued: number; failed: number }> {
  const { results } = await ctx.db.$client
    .prepare(`SELECT id, status FROM jobs WHERE node_id = ?1 AND status IN ('assigned', 'starting', 'running') LIMIT ?2`)
    .bind(nodeId, JOBS_PER_CALL)
    .all<{ id: string; status: string }>();
  const counts = { requeued: 0, failed: 0 };
  for (const r of results) {
    await handleFault(ctx, r.id, nodeId, 'node_suspended', nowMs, 'admin');
    if (r.status === 'running') counts.failed++;
    else counts.requeued++;
  }
  return counts;
}

async function requireNode(db: Db, nodeId: string): Promise<void> {
  const row = await db.$client.prepare('SELECT 1 AS one FROM nodes WHERE id = ?').bind(nodeId).first();
  if (!row) throw new AppError(404, 'node_not_found', 'There is no node with this id.');
}

async function latestSuspension(db: Db, nodeId: string): Promise<{ id: number; at: number; reason: string }> {
  const row = await db.$client
    .prepare(`SELECT id, at, detail FROM node_events WHERE node_id = ? AND kind = 'suspended' ORDER BY id DESC LIMIT 1`)
    .bind(nodeId)
    .first<{ id: number; at: number; detail: string }>();
  if (!row) throw new Error(`node ${nodeId} is suspended without a suspension event`);
  const detail = JSON.parse(row.detail) as { reason?: unknown };
  return { id: row.id, at: row.at, reason: typeof detail.reason === 'string' ? detail.reason : '' };
}
