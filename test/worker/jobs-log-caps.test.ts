import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { LOG_CAP_BYTES, LOG_CAP_LINES } from '../../workers/jobs/log-caps.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent, type ReadyNode, type Renter } from './helpers/jobs.ts';

// Job logs are the renter's view of a running job, stored in D1: accepted only while the job is
// starting or running, and capped per job in bytes and in lines. The chunk that would cross a
// cap is replaced by one marker line; everything after it is dropped without a write.

const MAX_CHUNK = 16 * 1024;

async function runningJob(lat: number, lon: number, country: string): Promise<{ node: ReadyNode; renter: Renter; jobId: string }> {
  const node = await nodeAt(lat, lon, country);
  const renter = await newRenter();
  const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat, lon } })), 201);
  expect(created.nodeId).toBe(node.nodeId);
  expect((await json(await sendEvent(node, created.id, { kind: 'accepted' }), 200)).status).toBe('starting');
  expect((await json(await sendEvent(node, created.id, { kind: 'started' }), 200)).status).toBe('running');
  return { node, renter, jobId: created.id };
}

const logsOf = async (renter: Renter, jobId: string) =>
  (await json(await renter.call('GET', `/v1/jobs/${jobId}/logs?limit=1000`), 200)).logs as { seq: number; stream: string; data: string }[];

const rowsOf = async (table: 'job_logs' | 'job_events', jobId: string) =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE job_id = ?`).bind(jobId).first<number>('n'))!;

describe('job logs are accepted only while the job is starting or running', () => {
  it('stores logs while starting and running; refuses them before acceptance and after the close, writing nothing', async () => {
    const node = await nodeAt(45.46, 9.19, 'IT');
    const renter = await newRenter();
    const created = await json(await renter.call('POST', '/v1/jobs', jobBody({ client: { lat: 45.4, lon: 9.1 } })), 201);
    const log = (seq: number, data: string) => sendEvent(node, created.id, { kind: 'log', seq, stream: 'stdout', data });

    // Assigned, not yet accepted: nothing to log.
    expect(await json(await log(0, 'too early\n'), 200)).toMatchObject({ status: 'assigned', applied: false });
    await sendEvent(node, created.id, { kind: 'accepted' });
    expect(await json(await log(1, 'pulling image\n'), 200)).toMatchObject({ status: 'starting', applied: true });
    await sendEvent(node, created.id, { kind: 'started' });
    expect(await json(await log(2, 'hello\n'), 200)).toMatchObject({ status: 'running', applied: true });
    await sendEvent(node, created.id, { kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 1, runSeconds: 1 } });
    const eventsBefore = await rowsOf('job_events', created.id);
    expect(await json(await log(3, 'too late\n'), 200)).toMatchObject({ status: 'succeeded', applied: false });

    expect((await logsOf(renter, created.id)).map((l) => l.data)).toEqual(['pulling image\n', 'hello\n']);
    expect(await rowsOf('job_events', created.id)).toBe(eventsBefore);
  });
});

describe('job logs are capped per job', () => {
  it(`stores up to ${LOG_CAP_LINES} lines, then one marker line, then nothing`, { timeout: 60_000 }, async () => {
    const { node, renter, jobId } = await runningJob(41.9, 12.5, 'IT');
    const linesPerChunk = 2000;
    expect(LOG_CAP_LINES % linesPerChunk).toBe(0);
    const chunk = 'x\n'.repeat(linesPerChunk);
    let seq = 0;
    for (let i = 0; i < LOG_CAP_LINES / linesPerChunk; i++) {
      expect(await json(await sendEvent(node, jobId, { kind: 'log', seq: seq++, stream: 'stdout', data: chunk }), 200)).toMatchObject({
        applied: true,
      });
    }
    // One line more than the cap allows: the chunk is dropped and the marker stored in its place.
    expect(await json(await sendEvent(node, jobId, { kind: 'log', seq: seq++, stream: 'stdout', data: 'one more\n' }), 200)).toMatchObject({
      applied: false,
    });
    const rowsAtCap = await rowsOf('job_logs', jobId);
    const eventsAtCap = await rowsOf('job_events', jobId);
    expect(await json(await sendEvent(node, jobId, { kind: 'log', seq: seq++, stream: 'stderr', data: 'and more\n' }), 200)).toMatchObject({
      applied: false,
    });
    expect(await rowsOf('job_logs', jobId)).toBe(rowsAtCap);
    expect(await rowsOf('job_events', jobId)).toBe(eventsAtCap);

    const logs = await logsOf(renter, jobId);
    expect(logs).toHaveLength(LOG_CAP_LINES / linesPerChunk + 1);
    expect(logs.slice(0, -1).every((l) => l.data === chunk)).toBe(true);
    expect(logs.at(-1)).toMatchObject({ stream: 'system' });
    expect(logs.at(-1)!.data).toMatch(/cap/);
    // The job itself goes on: its finish is still taken.
    const done = await json(
      await sendEvent(node, jobId, { kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 1, runSeconds: 1 } }),
      200,
    );
    expect(done).toMatchObject({ status: 'succeeded', applied: true });
  });

  it(`stores up to ${LOG_CAP_BYTES} bytes, then one marker line`, { timeout: 60_000 }, async () => {
    const { node, renter, jobId } = await runningJob(48.14, 11.58, 'DE');
    expect(LOG_CAP_BYTES % MAX_CHUNK).toBe(0);
    // Long lines: the byte cap is reached long before the line cap.
    const chunk = `${'y'.repeat(MAX_CHUNK - 1)}\n`;
    let seq = 0;
    for (let i = 0; i < LOG_CAP_BYTES / MAX_CHUNK; i++) {
      expect(await json(await sendEvent(node, jobId, { kind: 'log', seq: seq++, stream: 'stdout', data: chunk }), 200)).toMatchObject({
        applied: true,
      });
    }
    expect(await json(await sendEvent(node, jobId, { kind: 'log', seq: seq++, stream: 'stdout', data: 'z\n' }), 200)).toMatchObject({
      applied: false,
    });
    expect(await json(await sendEvent(node, jobId, { kind: 'log', seq: seq++, stream: 'stdout', data: 'z\n' }), 200)).toMatchObject({
      applied: false,
    });
    const logs = await logsOf(renter, jobId);
    expect(logs).toHaveLength(LOG_CAP_BYTES / MAX_CHUNK + 1);
    expect(logs.filter((l) => l.stream === 'system')).toHaveLength(1);
    expect(logs.at(-1)!.stream).toBe('system');
  });
});
