import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { heartbeat, signedRequest } from './helpers/agent.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent, type ReadyNode } from './helpers/jobs.ts';

// A job's env holds the renter's secrets (tokens, keys). They are needed only until the agent has
// started the job: when the job closes, in any terminal state, its stored values are deleted in
// the closing batch (the names stay, for the renter's view) and the node's shard no longer hands
// the job out by heartbeat or stream.

const SECRET = 'hf_supersecretvalue';

async function storedEnv(jobId: string): Promise<Record<string, string>> {
  const row = await env.DB.prepare('SELECT env, status FROM jobs WHERE id = ?').bind(jobId).first<{ env: string; status: string }>();
  return JSON.parse(row!.env) as Record<string, string>;
}

/** Everything a fresh stream connection of the node is sent on connect (hello, then its pending jobs). */
async function streamGreeting(node: ReadyNode): Promise<Record<string, any>[]> {
  const request = await signedRequest(node.keyPair, node.nodeId, 'GET', `/v1/nodes/${node.nodeId}/stream`);
  request.headers.set('Upgrade', 'websocket');
  const res = await exports.default.fetch(request);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: Record<string, any>[] = [];
  ws.addEventListener('message', (e) => messages.push(JSON.parse(e.data as string)));
  ws.accept();
  await expect.poll(() => messages.find((m) => m.type === 'hello'), { timeout: 2000 }).toBeDefined();
  const hello = messages.find((m) => m.type === 'hello')!;
  await expect.poll(() => messages.filter((m) => m.type === 'job').length, { timeout: 2000 }).toBe(hello.jobs);
  ws.close();
  return messages;
}

describe('job env values are deleted when the job closes', () => {
  it('cancelled before acceptance: the stored env is gone and neither heartbeat nor stream serves it', async () => {
    const node = await nodeAt(59.33, 18.06, 'SE', { name: 'stockholm' });
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 59.3, lon: 18.0 } })), 201);
    expect(created.nodeId).toBe(node.nodeId);
    // While it is offered, the node gets the env (it needs it to start the job).
    expect(JSON.stringify(await streamGreeting(node))).toContain(SECRET);
    expect(await storedEnv(created.id)).toEqual({ HF_TOKEN: SECRET });

    expect((await json(await renter.call('POST', `/v1/jobs/${created.id}/cancel`), 200)).status).toBe('cancelled');

    expect(await storedEnv(created.id)).toEqual({ HF_TOKEN: '' });
    const hb = await json(await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()), 200);
    expect(JSON.stringify(hb)).not.toContain(SECRET);
    expect(JSON.stringify(await streamGreeting(node))).not.toContain(SECRET);
    // The renter still sees which variables the job had.
    expect((await json(await renter.call('GET', `/v1/jobs/${created.id}`), 200)).envNames).toEqual(['HF_TOKEN']);
  });

  it('finished by the agent (succeeded) or failed: the stored env is gone', async () => {
    const node = await nodeAt(60.17, 24.94, 'FI', { name: 'helsinki' });
    const renter = await newRenter();
    for (const finish of [
      { exitCode: 0, reason: 'exited', status: 'succeeded' },
      { exitCode: 1, reason: 'error', status: 'failed' },
    ]) {
      const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 60.1, lon: 24.9 } })), 201);
      expect(created.nodeId).toBe(node.nodeId);
      expect((await json(await sendEvent(node, created.id, { kind: 'accepted' }), 200)).status).toBe('starting');
      expect((await json(await sendEvent(node, created.id, { kind: 'started' }), 200)).status).toBe('running');
      expect(await storedEnv(created.id)).toEqual({ HF_TOKEN: SECRET });
      const closed = await json(
        await sendEvent(node, created.id, {
          kind: 'finished',
          exitCode: finish.exitCode,
          reason: finish.reason,
          receipt: { gpuSeconds: 1, runSeconds: 1 },
        }),
        200,
      );
      expect(closed.status).toBe(finish.status);
      expect(await storedEnv(created.id)).toEqual({ HF_TOKEN: '' });
    }
    const hb = await json(await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat()), 200);
    expect(JSON.stringify(hb)).not.toContain(SECRET);
  });

  it('a log line arriving after the close is not stored: with the values gone it could not be redacted', async () => {
    const node = await nodeAt(64.15, -21.94, 'IS', { name: 'reykjavik' });
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 64.1, lon: -21.9 } })), 201);
    expect(created.nodeId).toBe(node.nodeId);
    await sendEvent(node, created.id, { kind: 'accepted' });
    await sendEvent(node, created.id, { kind: 'started' });
    await sendEvent(node, created.id, { kind: 'log', seq: 0, stream: 'stdout', data: `before ${SECRET}\n` });
    expect((await json(await renter.call('POST', `/v1/jobs/${created.id}/cancel`), 200)).status).toBe('cancelled');
    // The agent flushes what it still had before it heard the stop.
    expect((await sendEvent(node, created.id, { kind: 'log', seq: 1, stream: 'stdout', data: `after ${SECRET}\n` })).status).toBe(200);
    const logs = await json(await renter.call('GET', `/v1/jobs/${created.id}/logs`), 200);
    expect(logs.logs.map((l: { data: string }) => l.data)).toEqual(['before [redacted]\n']);
    expect(JSON.stringify(logs)).not.toContain(SECRET);
  });
});
