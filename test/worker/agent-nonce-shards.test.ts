import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../workers/app.ts';
import { shardIndex } from '../../workers/live/shard.ts';
import { call, errorOf, heartbeat, newAgent, registration, signedRequest, type TestAgent } from './helpers/agent.ts';
import { devAccount, ownedNode } from './helpers/staking.ts';

// A node's live state moves to another NodeShard when HEARTBEAT_SHARDS changes. Its seen nonces
// must not move with it: a request captured before the change and replayed after it, while its
// timestamp is still fresh, is refused like any replay. The suite runs with HEARTBEAT_SHARDS=4;
// the replay goes to the same Worker code with 5 (and 1) shards.

const withShards = (count: number) => ({ ...env, HEARTBEAT_SHARDS: String(count) }) as typeof env;

async function sendWith(bindings: typeof env, request: Request): Promise<Response> {
  return app.fetch(request, bindings, createExecutionContext());
}

async function expectReplayed(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(await errorOf(res)).toMatchObject({ status: 401, code: 'replayed_request' });
}

/** A registered node whose live shard differs between 4 and `count` shards. */
async function nodeThatMoves(count: number): Promise<TestAgent> {
  const owner = await devAccount();
  for (;;) {
    const node = await ownedNode(owner);
    if (shardIndex(node.nodeId, 4) !== shardIndex(node.nodeId, count)) return node;
  }
}

describe('nonces survive a change of the shard count', () => {
  it('a heartbeat captured before the change is refused after it', async () => {
    for (const count of [5, 1]) {
      const node = await nodeThatMoves(count);
      const request = await signedRequest(node.keyPair, node.nodeId, 'POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat());
      const copy = request.clone();
      expect((await call(request)).status).toBe(200);
      await expectReplayed(await sendWith(withShards(count), copy));
      // A fresh request is still served after the change.
      const fresh = await signedRequest(node.keyPair, node.nodeId, 'POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat());
      expect((await sendWith(withShards(count), fresh)).status).toBe(200);
    }
  });

  it('a registration and a challenge poll captured before the change are refused after it', async () => {
    const node = await nodeThatMoves(5);
    const poll = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/challenges`);
    const pollCopy = poll.clone();
    expect((await call(poll)).status).toBe(200);
    await expectReplayed(await sendWith(withShards(5), pollCopy));

    const agent = await newAgent();
    while (shardIndex(agent.nodeId, 4) === shardIndex(agent.nodeId, 5)) Object.assign(agent, await newAgent());
    const register = await signedRequest(agent.keyPair, agent.nodeId, 'POST', '/v1/nodes', registration());
    const registerCopy = register.clone();
    expect((await call(register)).status).toBe(201);
    await expectReplayed(await sendWith(withShards(5), registerCopy));
  });
});
