import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { waitFor, type AgentLauncher, type AgentProcess } from './agent-process.ts';
import { newRenter, readyAgent, waitForStatus } from './jobs-helpers.ts';

// The published agent on the oldest Node it supports: the bundle `npm run agent:build` makes, run
// by the machine's Node 20 (no global WebSocket there) against the real local control plane. A job
// is pushed over the stream and accepted before the next heartbeat; `doctor` then finds the node
// registered and eligible and the clock in step.

const NODE20 = ['/usr/bin/node', '/usr/local/bin/node'].find(
  (p) => existsSync(p) && execFileSync(p, ['--version'], { encoding: 'utf8' }).startsWith('v20.'),
);
const node = NODE20 ?? process.execPath;
let stack: LocalStack;
let launcher: AgentLauncher;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  console.log(
    NODE20
      ? `agent on ${NODE20} (${execFileSync(NODE20, ['--version'], { encoding: 'utf8' }).trim()})`
      : `no Node 20 on this machine: the bundle runs on ${process.execPath} (${process.version})`,
  );
  const outdir = join(mkdtempSync(join(tmpdir(), 'gridplane-agent-bundle-')), 'dist');
  execFileSync(process.execPath, ['edge-agent/scripts/build.ts', '--outdir', outdir], { cwd: repoRoot });
  launcher = { node, entry: join(outdir, 'gridplane-agent.mjs') };
  // Heartbeats far enough apart that a job accepted between two of them came over the stream.
  stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '20', HEARTBEAT_SHARDS: '4' });
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await stack?.stop();
});

const logLines = (agent: AgentProcess) =>
  agent
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; job?: string });

describe('the bundled agent on Node 20', () => {
  it('gets a job pushed over the stream, and doctor finds it registered, eligible and in time', async () => {
    const agent = await readyAgent(stack, { name: 'node20', lat: 35.68, lon: 139.69, country: 'JP', simulateGpus: 'RTX 4090x1', launcher });
    agents.push(agent);
    await waitFor('the job stream', async () => (logLines(agent).some((l) => l.event === 'stream_open') ? true : undefined));
    expect(logLines(agent).some((l) => l.event === 'stream_unavailable')).toBe(false);

    // Right after a heartbeat, so the next is 20 s away.
    const heartbeats = () => logLines(agent).filter((l) => l.event === 'heartbeat').length;
    const seen = heartbeats();
    await waitFor('a fresh heartbeat', async () => (heartbeats() > seen ? true : undefined), 40_000);
    const renter = await newRenter(stack);
    const res = await renter.call('POST', '/v1/jobs', {
      gpu: { model: 'RTX 4090', count: 1 },
      durationS: 60,
      image: 'python:3.12-slim',
      command: [process.execPath, '-e', "console.log('pushed to node 20')"],
      client: { lat: 35.68, lon: 139.69 },
    });
    expect(res.status).toBe(201);
    const job = (await res.json()) as { id: string; nodeId: string };
    expect(job.nodeId).toBe(agent.nodeId);
    await waitFor(
      'the job accepted',
      async () => (logLines(agent).some((l) => l.event === 'job_accepted' && l.job === job.id) ? true : undefined),
      15_000,
    );
    const lines = logLines(agent);
    const accepted = lines.findIndex((l) => l.event === 'job_accepted' && l.job === job.id);
    expect(lines.slice(0, accepted).filter((l) => l.event === 'heartbeat').length).toBe(seen + 1);
    expect((await waitForStatus(renter, job.id, ['succeeded', 'failed'])).status).toBe('succeeded');

    const doctor = (() => {
      try {
        return {
          code: 0,
          out: execFileSync(launcher.node, [launcher.entry, 'doctor', '--home', agent.home, '--json'], { encoding: 'utf8' }),
        };
      } catch (err) {
        return { code: (err as { status: number }).status, out: String((err as { stdout: string }).stdout) };
      }
    })();
    const checks = Object.fromEntries(
      doctor.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id?: string; status: string; detail: string })
        .filter((c) => c.id)
        .map((c) => [c.id, c]),
    );
    expect(checks.node!.detail).toBe(`Node.js ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1)}`);
    expect(checks.reach).toMatchObject({ status: 'ok' });
    // A local `wrangler dev` sends no Date header; the signed request stamped with this clock decides.
    expect(checks.clock).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(
        /^(this clock is \d+\.\d s ± \d+\.\d s |within 300 s of the control plane's: it accepted a request signed)/,
      ),
    });
    expect(checks.registration).toMatchObject({ status: 'ok', detail: 'registered, online, 1 GPU' });
    expect(checks.eligibility).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^eligible for jobs: verified \S+, stake 200\.000000$/),
    });
    expect(checks.gpus).toMatchObject({ status: 'warn' });
    expect(doctor.code).toBe(0);
  });
});
