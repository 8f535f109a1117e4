import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { solveChallenge } from '../../protocol/matmul-challenge.ts';
import { call, errorOf, heartbeat, newAgent, registration, signedRequest } from './helpers/agent.ts';
import { json, jobBody, newRenter, nodeAt } from './helpers/jobs.ts';
import { devAccount, fetchChallenge, ownedNode } from './helpers/staking.ts';

// Every signed agent route refuses a captured request sent a second time, byte for byte. The
// first send must do its real work (so the capture is a valid request), the replay must answer
// 401 replayed_request and change nothing. Registration and heartbeats record their nonce in the
// shard; the other routes rely on requireSignedAgent's nonce check, which this file pins.

async function sendTwice(request: Request): Promise<[Response, Response]> {
  const copy = request.clone();
  const first = await call(request);
  const second = await call(copy);
  return [first, second];
}

async function expectReplayed(res: Response) {
  expect(await errorOf(res)).toMatchObject({ status: 401, code: 'replayed_request' });
}

describe('a captured signed request sent again is refused on every agent route', () => {
  it('POST /v1/nodes (registration)', async () => {
    const agent = await newAgent();
    const [first, replay] = await sendTwice(await signedRequest(agent.keyPair, agent.nodeId, 'POST', '/v1/nodes', registration()));
    expect(first.status).toBe(201);
    await expectReplayed(replay);
  });

  it('POST /v1/nodes/{id}/heartbeat', async () => {
    const owner = await devAccount();
    const node = await ownedNode(owner);
    const [first, replay] = await sendTwice(
      await signedRequest(node.keyPair, node.nodeId, 'POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()),
    );
    expect(first.status).toBe(200);
    await expectReplayed(replay);
  });

  it('GET /v1/nodes/{id}/challenges and POST …/challenges/{cid}/answer', async () => {
    const owner = await devAccount();
    const node = await ownedNode(owner);
    const [poll, pollReplay] = await sendTwice(
      await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/challenges`),
    );
    expect(poll.status).toBe(200);
    await expectReplayed(pollReplay);

    const challenge = await fetchChallenge(node);
    expect(challenge).toBeDefined();
    const digests = await solveChallenge(challenge!);
    const path = `/v1/nodes/${node.nodeId}/challenges/${challenge!.id}/answer`;
    const [answered, answerReplay] = await sendTwice(
      await signedRequest(node.keyPair, node.nodeId, 'POST', path, { digests: btoa(String.fromCharCode(...digests)) }),
    );
    expect((await json(answered, 200)).status).toBe('passed');
    await expectReplayed(answerReplay);
  });

  it('POST /v1/nodes/{id}/jobs/{jobId}/events: a replayed event is refused and moves nothing', async () => {
    const node = await nodeAt(59.33, 18.07, 'SE');
    const renter = await newRenter();
    const job = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 59.3, lon: 18.1 } })), 201);
    expect(job.nodeId).toBe(node.nodeId);
    const path = `/v1/nodes/${node.nodeId}/jobs/${job.id}/events`;
    const [accepted, replay] = await sendTwice(
      await signedRequest(node.keyPair, node.nodeId, 'POST', path, { eventId: 'replay-accept', kind: 'accepted' }),
    );
    expect((await json(accepted, 200)).status).toBe('starting');
    await expectReplayed(replay);
    const transitions = await env.DB.prepare('SELECT count(*) AS n FROM job_transitions WHERE job_id = ?').bind(job.id).first<number>('n');
    expect(transitions).toBe(3); // queued, assigned, starting
  });

  it('GET /v1/nodes/{id}/stream: a replayed upgrade never opens a stream (it carries renters’ env)', async () => {
    const node = await nodeAt(60.17, 24.94, 'FI');
    const request = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/stream`);
    request.headers.set('Upgrade', 'websocket');
    const copy = new Request(request.url, { method: 'GET', headers: new Headers(request.headers) });
    const first = await exports.default.fetch(request);
    expect(first.status).toBe(101);
    first.webSocket!.accept();
    const replay = await exports.default.fetch(copy);
    expect(replay.webSocket ?? null).toBeNull();
    await expectReplayed(replay);
    first.webSocket!.close();
  });
});
