import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireSignedAgent } from '../auth/agent-auth.ts';
import { AppError } from '../errors.ts';
import { VERIFIED_NODE_HEADER } from '../jobs/shard-jobs.ts';
import { tunnelFor } from './tunnel-stub.ts';

// GET /v1/nodes/:nodeId/tunnel: the agent's endpoints tunnel, a signed WebSocket upgrade (fresh
// nonce, like the job stream) handed to the node's NodeTunnel object with the verified node id.
export const tunnelApp = new Hono<AppEnv>().get(
  '/:nodeId/tunnel',
  requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true }),
  async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new AppError(426, 'upgrade_required', 'This route is a WebSocket: send Upgrade: websocket.');
    }
    const nodeId = c.var.agent.nodeId;
    const headers = new Headers({ upgrade: 'websocket', [VERIFIED_NODE_HEADER]: nodeId });
    return tunnelFor(c.env, nodeId).fetch(new Request(c.req.url, { method: 'GET', headers }));
  },
);
