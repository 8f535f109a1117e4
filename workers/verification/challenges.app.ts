import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { requireSignedAgent } from '../auth/agent-auth.ts';
import { parseJsonBytes, validate } from '../http/body.ts';
import { answerChallenge, pollChallenges } from './challenges.service.ts';
import { challengeWire } from './challenge-view.ts';
import { ChallengeAnswerSchema, challengeIdSchema, type ChallengeOutcome } from '../../protocol/challenge-messages.ts';
import { emitAlert } from '../alerts/emit-alert.ts';

// Agent routes for hardware verification, mounted beside the node routes under /v1/nodes:
//   GET  /v1/nodes/{nodeId}/challenges               signed poll; delivering starts the deadline
//   POST /v1/nodes/{nodeId}/challenges/{id}/answer   signed; { "digests": "<base64>" }
// The messages' schemas are the agent's too (protocol/challenge-messages.ts).

export const challengesApp = new Hono<AppEnv>()
  .get('/:nodeId/challenges', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true }), async (c) => {
    const rows = await pollChallenges(c.var.db, c.var.config, c.var.agent.nodeId, Date.now());
    return c.json({ challenges: rows.map(challengeWire) });
  })

  .post('/:nodeId/challenges/:challengeId/answer', requireSignedAgent({ nodeParam: 'nodeId', consumeNonce: true }), async (c) => {
    const receivedAt = Date.now();
    const challengeId = validate(challengeIdSchema, c.req.param('challengeId'));
    // The signed bytes, read once by requireSignedAgent: validated here, not by jsonInput.
    const body = validate(ChallengeAnswerSchema, parseJsonBytes(c.var.agent.body));
    const outcome = await answerChallenge(c.var.db, c.var.config, c.var.agent.nodeId, challengeId, body.digests, receivedAt);
    if (outcome.status === 'failed')
      await emitAlert(c.env, {
        eventId: `verification_failed:${challengeId}`,
        kind: 'verification_failed',
        nodeId: c.var.agent.nodeId,
        at: receivedAt,
        data: { reason: outcome.failure },
      }).catch((error) => console.error('verification alert not emitted', error));
    return c.json({ challengeId, ...outcome } satisfies ChallengeOutcome);
  });
