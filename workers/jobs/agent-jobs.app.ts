import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireSignedAgent } from '../auth/agent-auth.ts';
import { AppError } from '../errors.ts';
import { parseJsonBytes, validate } from '../http/body.ts';
import { shardFor } from '../live/shard-stub.ts';
import { AGENT_HEADERS } from '../../protocol/signed-request.ts';
import { applyAgentEvent } from './agent-events.ts';
import { agentEventSchema } from './job-input.schema.ts';
import { VERIFIED_NODE_HEADER } from './shard-jobs.ts';

// Agent routes of the jobs domain, under /v1/nodes beside the registry's: signed job events,
// and the signed WebSocket stream into the node's shard.

export const agentJobsApp = new Hono<AppEnv>()
  .post('/:nodeId/jobs/:jobId/events', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true, budget: 'jobEvents' }), async (c) => {
    const agent = c.var.agent;
    // The signed bytes, read once by requireSignedAgent: validated here, not by jsonInput.
    const event = validate(agentEventSchema, parseJsonBytes(agent.body));
    const url = new URL(c.req.url);
    const outcome = await applyAgentEvent(
      { db: c.var.db, env: c.env, config: c.var.config },
      agent.nodeId,
      c.req.param('jobId'),
      event,
      {
        path: url.pathname + url.search,
        timestamp: agent.timestampMs,
        nonce: agent.nonce,
        signature: c.req.header(AGENT_HEADERS.signature) ?? '',
        body: new TextDecoder().decode(agent.body),
      },
      Date.now(),
    );
    return c.json({ jobId: c.req.param('jobId'), eventId: event.eventId, ...outcome });
  })
  .get('/:nodeId/stream', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true }), async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new AppError(426, 'upgrade_required', 'This route is a WebSocket: send Upgrade: websocket.');
    }
    const nodeId = c.var.agent.nodeId;
    const headers = new Headers(c.req.raw.headers);
    headers.set(VERIFIED_NODE_HEADER, nodeId);
    return shardFor(c.env, nodeId).fetch(new Request(c.req.url, { method: 'GET', headers }));
  });
