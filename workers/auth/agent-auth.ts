import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { readRawBody } from '../http/body.ts';
import { authenticating, spend, spendAddress } from '../limits/rate-limit.ts';
import { consumeAgentNonce } from '../live/shard-stub.ts';
import { signatureFailureMessage, verifyAgentSignature } from './agent-signature.ts';

export interface AgentAuthOptions {
  /** Route param that names the node the route acts on; the signer must be that node. */
  nodeParam?: string;
  /**
   * Consume the nonce here. Routes whose shard call records the nonce itself (heartbeats,
   * registration) pass false so the hot path costs one Durable Object call, not two.
   */
  consumeNonce: boolean;
  /**
   * The node's rate-limit budget the request is counted in: `node` (default: registration,
   * heartbeats, challenges, the stream) or `jobEvents`, apart so busy jobs never starve heartbeats.
   */
  budget?: 'node' | 'jobEvents';
}

export const requireSignedAgent = (options: AgentAuthOptions) =>
  authenticating(
    createMiddleware<AppEnv>(async (c, next) => {
      const body = await readRawBody(c);
      const url = new URL(c.req.url);
      const check = await verifyAgentSignature({
        method: c.req.method,
        pathWithQuery: url.pathname + url.search,
        headers: c.req.raw.headers,
        body,
        nowMs: Date.now(),
      });
      if (!check.ok) {
        await spendAddress(c);
        const { code, message } = signatureFailureMessage(check.reason);
        throw new AppError(401, code, message);
      }
      // Counted for the signer, before the nonce is consumed: a 429 changes nothing, so the
      // agent's retry may reuse the nonce.
      await spend(c, options.budget ?? 'node', `node:${check.nodeId}`);
      if (options.nodeParam && c.req.param(options.nodeParam) !== check.nodeId) {
        throw new AppError(403, 'wrong_node', 'A node may only act for itself; this request is signed by another node.');
      }
      if (options.consumeNonce) {
        const verdict = await consumeAgentNonce(c.env, check.nodeId, check.nonce, Date.now());
        if (verdict === 'node_suspended') throw nodeSuspended();
        if (verdict === 'replayed_request') throw replayed();
      }
      c.set('agent', { nodeId: check.nodeId, nonce: check.nonce, timestampMs: check.timestampMs, body });
      await next();
    }),
  );

/** An admin suspended the node (workers/nodes/suspension.service.ts): every signed request of it gets this. */
export const nodeSuspended = () =>
  new AppError(
    403,
    'node_suspended',
    'This node is suspended by gridplane: it gets no jobs or rewards and its requests are refused. Its operator was told why; contact the gridplane admins.',
  );

export const replayed = () =>
  new AppError(401, 'replayed_request', 'This nonce was already used by this node; sign each request with a fresh nonce.');
