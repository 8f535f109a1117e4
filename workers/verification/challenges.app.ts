import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { requireSignedAgent } from '../auth/agent-auth.ts';
import { parseJsonBytes, validate } from '../http/body.ts';
import { answerChallenge, challengeWire, pollChallenges } from './challenges.repo.ts';
import { emitAlert } from '../alerts/emit-alert.ts';

// Agent routes for hardware verification, mounted beside the node routes under /v1/nodes:
//   GET  /v1/nodes/{nodeId}/challenges               signed poll; delivering starts the deadline
//   POST /v1/nodes/{nodeId}/challenges/{id}/answer   signed; { "digests": "<base64>" }

const answerSchema = z.strictObject({
  digests: z.string().max(48_000),
  /** What the agent measured, for the record; the deadline is judged on server receive times. */
  elapsedMs: z.number().int().min(0).optional(),
  device: z.enum(['gpu', 'cpu']).optional(),
});

const challengeIdSchema = z.string().regex(/^ch_[0-9a-f]{32}$/, 'must be a challenge id');

export const challengesApp = new Hono<AppEnv>()
  .get('/:nodeId/challenges', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true }), async (c) => {
    const rows = await pollChallenges(c.var.db, c.var.config, c.var.agent.nodeId, Date.now());
    return c.json({ challenges: rows.map(challengeWire) });
  })

  .post('/:nodeId/challenges/:challengeId/answer', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true }), async (c) => {
    const receivedAt = Date.now();
    const challengeId = validate(challengeIdSchema, c.req.param('challengeId'));
    const body = validate(answerSchema, parseJsonBytes(c.var.agent.body));
    const outcome = await answerChallenge(c.var.db, c.var.config, c.var.agent.nodeId, challengeId, body.digests, receivedAt);
    if (outcome.status === 'failed') await emitAlert(c.env, { eventId: `verification_failed:${challengeId}`, kind: 'verification_failed', nodeId: c.var.agent.nodeId, at: receivedAt, data: { reason: outcome.failure } }).catch((error) => console.error('verification alert not emitted', error));
    return c.json({ challengeId, ...outcome });
  });
