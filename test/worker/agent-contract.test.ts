import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { HeartbeatResponseSchema, type HeartbeatBody } from '../../edge-agent/src/control-plane-client.ts';
import { parseConfig } from '../../edge-agent/src/config.ts';
import { checkJobSpec } from '../../edge-agent/src/jobs/job-spec.ts';
import type { JobEvent } from '../../edge-agent/src/jobs/job-runner.ts';
import { registrationBody } from '../../edge-agent/src/registration.ts';
import type { SignedFetch } from '../../edge-agent/src/signed-fetch.ts';
import { parseSimulateSpec, simulatedInventory, simulatedMetrics } from '../../edge-agent/src/simulate.ts';
import { answerChallenges } from '../../edge-agent/src/verification/challenge-runner.ts';
import { StreamMessageSchema } from '../../protocol/job-offer.ts';
import { newAgent, OWNER, signedRequest, type TestAgent } from './helpers/agent.ts';
import { jobBody, json, newRenter, nodeAt } from './helpers/jobs.ts';

// The agent ↔ Worker contract (protocol/), end to end: every message the agent sends, built by the
// agent's own code where it has a builder (registration body, simulated GPU metrics, challenge
// answers, events typed by its JobEvent), goes to the real Worker and is accepted; every message
// the Worker sends an agent (heartbeat answer, job offer, stream hello/job/stop, challenges and
// their verdicts) is read with the agent's own parsers. The agent's schemas are protocol/'s, so
// this fails when either side drifts from the one declaration. The endpoints tunnel's half, every
// frame and control message each way, is agent-contract-tunnel.test.ts.

const GPUS = parseSimulateSpec('RTX 4090x2');
const config = parseConfig(
  { nodeName: 'contract-rig', owner: OWNER, location: { lat: 47.37, lon: 8.54, country: 'CH' }, pricePerGpuHour: '1.100000' },
  'test',
);

/** The agent's SignedFetch over the test agent's signing (the same six-line scheme). */
function signedFetchOf(agent: TestAgent): SignedFetch {
  return ({ method, path, body }) => agent.send(method, path, body);
}

async function heartbeatAnswer(agent: TestAgent, runningJobs: string[] = []) {
  const body: HeartbeatBody = { gpus: simulatedMetrics(GPUS, () => 0.5), probes: [{ target: 'ZRH', rttMs: 1.5 }], runningJobs };
  const res = await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, body);
  expect(res.status).toBe(200);
  const parsed = HeartbeatResponseSchema.safeParse(await res.json());
  expect(parsed.error).toBeUndefined();
  return parsed.data!;
}

describe('agent → Worker', () => {
  it('takes the registration and heartbeat the agent builds, and the agent reads the answer', async () => {
    const agent = await newAgent();
    const res = await agent.send('POST', '/v1/nodes', registrationBody(config, simulatedInventory(GPUS)));
    expect(res.status).toBe(201);
    const answer = await heartbeatAnswer(agent);
    expect(answer.jobs).toEqual([]);
    expect(answer.stream?.path).toBe(`/v1/nodes/${agent.nodeId}/stream`);
  });

  it("takes the agent's challenge answers: the agent's runner polls, solves and reads the verdicts", async () => {
    const agent = await newAgent();
    expect((await agent.send('POST', '/v1/nodes', registrationBody(config, simulatedInventory(GPUS)))).status).toBe(201);
    const results = await answerChallenges({ send: signedFetchOf(agent), nodeId: agent.nodeId, simulated: true });
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === 'passed' && r.device === 'cpu')).toBe(true);
  });

  it('takes every job event kind the agent sends, for an offer the agent accepts', async () => {
    const node = await nodeAt(47.37, 8.54, 'CH');
    const renter = await newRenter();
    const ran = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 47.4, lon: 8.5 } })), 201);
    const refused = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 47.4, lon: 8.5 } })), 201);
    const answer = await heartbeatAnswer(node);
    // Every offer in the answer passes the agent's own check.
    const offers = answer.jobs.map((job) => checkJobSpec(job));
    expect(offers.map((o) => (o.ok ? o.spec.id : o.reason)).sort()).toEqual([ran.id, refused.id].sort());
    const send = (jobId: string, event: JobEvent) => node.send('POST', `/v1/nodes/${node.nodeId}/jobs/${jobId}/events`, event);
    const events: JobEvent[] = [
      { eventId: `${ran.id}:accepted`, kind: 'accepted' },
      { eventId: `${ran.id}:started`, kind: 'started' },
      { eventId: `${ran.id}:log:0`, kind: 'log', seq: 0, stream: 'stdout', data: 'hello\n' },
      { eventId: `${ran.id}:log:1`, kind: 'log', seq: 1, stream: 'system', data: '[gridplane] note\n' },
      { eventId: `${ran.id}:finished`, kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 1, runSeconds: 1 } },
    ];
    for (const event of events) expect((await send(ran.id, event)).status, event.kind).toBe(200);
    expect((await send(refused.id, { eventId: `${refused.id}:rejected`, kind: 'rejected', reason: 'image not allowed here' })).status).toBe(
      200,
    );
  });
});

describe('Worker → agent', () => {
  it('sends stream messages (hello, job, stop) the agent parses, with offers it accepts', async () => {
    const node = await nodeAt(46.2, 6.15, 'CH');
    const request = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/stream`);
    request.headers.set('Upgrade', 'websocket');
    const res = await exports.default.fetch(request);
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const raw: unknown[] = [];
    ws.addEventListener('message', (e) => raw.push(JSON.parse(e.data as string)));
    ws.accept();
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 46.2, lon: 6.1 } })), 201);
    await json(await renter.call('POST', `/v1/jobs/${created.id}/cancel`), 200);
    await expect.poll(() => raw.length, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
    ws.close();
    const messages = raw.map((m) => StreamMessageSchema.parse(m));
    expect(messages.map((m) => m.type)).toEqual(['hello', 'job', 'stop']);
    const offer = messages.find((m) => m.type === 'job');
    expect(offer?.type === 'job' && checkJobSpec(offer.job)).toMatchObject({ ok: true, spec: { id: created.id } });
    expect(messages.find((m) => m.type === 'stop')).toMatchObject({ jobId: created.id });
  });
});
