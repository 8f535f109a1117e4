import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { nodeSuspended, replayed, requireSignedAgent } from '../auth/agent-auth.ts';
import { AppError, badRequest, notFound } from '../errors.ts';
import { parseJsonBytes, validate } from '../http/body.ts';
import { queryInput } from '../http/validator.ts';
import { parseAmount } from '../lib/amounts.ts';
import type { Env } from '../env.ts';
import type { NodeShard } from '../live/node-shard.do.ts';
import { shardFor, shardPlan } from '../live/shard-stub.ts';
import { heartbeatSchema, listNodesQuerySchema, nodeIdSchema, registerNodeSchema } from './node-input.schema.ts';
import type { HeartbeatAnswer } from '../../protocol/node-messages.ts';
import { afterNodeRegistered, registrationVerificationStatements } from '../verification/challenges.service.ts';
import { inventoryHash } from '../verification/inventory.ts';
import { nodeView } from './node-view.ts';
import { claimedGpus, findNode, gpusOf, upsertNode } from './nodes.repo.ts';
import { listNodesWithGpus, nodeWithGpus } from './nodes.service.ts';

const MAX_PRICE_TOKENS = 1_000_000n;

export const nodesApp = new Hono<AppEnv>()
  .post('/', requireSignedAgent({ consumeNonce: false }), async (c) => {
    const agent = c.var.agent;
    // The signed bytes, read once by requireSignedAgent: validated here, not by jsonInput.
    const input = validate(registerNodeSchema, parseJsonBytes(agent.body));
    const decimals = c.var.config.TOKEN_DECIMALS;
    const price = parseAmount(input.pricePerGpuHour, decimals);
    if (!price.ok) throw badRequest('invalid_request', `pricePerGpuHour: ${price.reason}.`);
    if (price.baseUnits <= 0 || BigInt(price.baseUnits) > MAX_PRICE_TOKENS * 10n ** BigInt(decimals)) {
      throw badRequest('invalid_request', 'pricePerGpuHour: must be more than 0 and at most 1000000 tokens.');
    }
    const existing = await findNode(c.var.db, agent.nodeId);
    // The node id is its key: a suspended node cannot come back under another owner or name.
    if (existing?.suspended) throw nodeSuspended();
    if (existing && existing.owner !== input.owner) {
      throw new AppError(409, 'owner_mismatch', 'This node is registered to another owner; the owner cannot be changed by re-registering.');
    }
    const now = Date.now();
    const target = await liveShardWithNonce(c.env, agent.nodeId, agent.nonce, now);
    const live = await target.shard.register({ nodeId: agent.nodeId, nonce: target.nonce, timestampMs: agent.timestampMs, nowMs: now });
    if (!live.ok) throw live.reason === 'node_suspended' ? nodeSuspended() : replayed();
    // The inventory and what it does to the node's verification: one batch (a crash between two
    // writes would leave new GPUs counted as verified).
    const verification = registrationVerificationStatements(
      c.var.db,
      c.var.config,
      agent.nodeId,
      await inventoryHash(claimedGpus(input)),
      now,
    );
    await upsertNode(c.var.db, agent.nodeId, input, price.baseUnits, now, !existing, verification);
    await afterNodeRegistered(c.var.db, c.var.config, agent.nodeId, now);
    const row = await findNode(c.var.db, agent.nodeId);
    const gpus = await gpusOf(c.var.db, [agent.nodeId]);
    return c.json(nodeView(row!, gpus.get(agent.nodeId) ?? [], decimals, now), existing ? 200 : 201);
  })

  .post('/:nodeId/heartbeat', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: false }), async (c) => {
    const agent = c.var.agent;
    // The signed bytes, read once by requireSignedAgent: validated here, not by jsonInput.
    const input = validate(heartbeatSchema, parseJsonBytes(agent.body));
    const nowMs = Date.now();
    const target = await liveShardWithNonce(c.env, agent.nodeId, agent.nonce, nowMs);
    const result = await target.shard.heartbeat({
      nodeId: agent.nodeId,
      nonce: target.nonce,
      timestampMs: agent.timestampMs,
      nowMs,
      gpus: input.gpus,
      probes: input.probes,
      runningJobs: input.runningJobs,
    });
    if (!result.ok) {
      if (result.reason === 'replayed_request') throw replayed();
      if (result.reason === 'node_suspended') throw nodeSuspended();
      throw new AppError(404, 'node_not_found', 'This node is not registered; register it with POST /v1/nodes first.');
    }
    // Jobs offered to this node and not yet accepted (workers/jobs/README.md), from the shard, not D1.
    return c.json({
      nextHeartbeatS: c.var.config.HEARTBEAT_INTERVAL_S,
      jobs: result.jobs,
      stopJobs: result.stopJobs,
      stream: { path: `/v1/nodes/${agent.nodeId}/stream` },
    } satisfies HeartbeatAnswer);
  })

  .get('/', queryInput(listNodesQuerySchema, { firstValue: true }), async (c) => {
    const query = c.req.valid('query');
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const { rows, gpus } = await listNodesWithGpus(c.var.db, { ...query, after });
    const page = rows.slice(0, query.limit);
    const now = Date.now();
    const decimals = c.var.config.TOKEN_DECIMALS;
    return c.json({
      nodes: page.map((r) => nodeView(r, gpus.get(r.id) ?? [], decimals, now)),
      nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!.id) : null,
    });
  })

  .get('/:nodeId', async (c) => {
    const nodeId = validate(nodeIdSchema, c.req.param('nodeId'));
    const found = await nodeWithGpus(c.var.db, nodeId);
    if (!found) throw notFound('Node');
    const live = await shardFor(c.env, nodeId).live(nodeId);
    return c.json(nodeView(found.node, found.gpus, c.var.config.TOKEN_DECIMALS, Date.now(), live));
  });

/**
 * The node's live shard and the nonce it should consume. The nonce (and the node's suspension)
 * live where the shard count cannot move them (shard-stub.ts): when the live shard is that home,
 * it admits the request in the same call; else the home admits it first (throwing the refusal)
 * and the live shard gets null.
 */
async function liveShardWithNonce(
  env: Env,
  nodeId: string,
  nonce: string,
  nowMs: number,
): Promise<{ shard: DurableObjectStub<NodeShard>; nonce: string | null }> {
  const plan = shardPlan(env, nodeId);
  if (!plan.nonceHome) return { shard: plan.live, nonce };
  const verdict = await plan.nonceHome.admit(nodeId, nonce, nowMs);
  if (verdict === 'node_suspended') throw nodeSuspended();
  if (verdict === 'replayed_request') throw replayed();
  return { shard: plan.live, nonce: null };
}

const encodeCursor = (id: string) => btoa(JSON.stringify({ after: id })).replace(/=+$/, '');

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(atob(cursor));
    if (parsed && typeof parsed === 'object' && 'after' in parsed && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw badRequest('invalid_request', 'cursor: is not a cursor this API returned.');
}
