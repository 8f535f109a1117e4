// Over 300 lines: the replica manager's cases share the fixture server and the manager's setup; each case is one life of a replica.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReplicaState, TunnelControlToWorker } from '../../protocol/tunnel.ts';
import { verifyReplicaReceipt } from '../../workers/endpoints/replica-receipt.ts';
import { ReplicaManager } from '../../edge-agent/src/endpoints/replica-manager.ts';
import type { ReplicaTiming } from '../../edge-agent/src/endpoints/replica-timing.ts';
import { identityFromPkcs8, type Identity } from '../../edge-agent/src/identity.ts';
import { GpuPool } from '../../edge-agent/src/jobs/gpu-pool.ts';
import { JobRunner, type JobEvent } from '../../edge-agent/src/jobs/job-runner.ts';
import { createProcessRuntime } from '../../edge-agent/src/jobs/process-runtime.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import { waitFor } from './helpers/index.ts';

// The replica manager over the real process runtime: each replica is a real Node HTTP server
// (fixtures/replica-server.mjs) on the loopback port the manager picked, health-checked over real
// HTTP. Messages to the Worker are collected as the tunnel would send them.

const SERVER = fileURLToPath(new URL('./fixtures/replica-server.mjs', import.meta.url));
const GPU = 'NVIDIA GeForce RTX 4090';
const FAST: Partial<ReplicaTiming> = {
  startTimeoutMs: 10_000,
  startPollMs: 25,
  healthIntervalMs: 50,
  healthTimeoutMs: 3_000,
  unhealthyAfter: 2,
  maxRestarts: 2,
  restartDelayMs: 20,
  receiptIntervalMs: 100,
};

type StateMessage = Extract<TunnelControlToWorker, { type: 'replica_state' }>;
type ReceiptMessage = Extract<TunnelControlToWorker, { type: 'replica_receipt' }>;

const managers: ReplicaManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
});

async function newIdentity(): Promise<Identity> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
}

async function setup(timing: Partial<ReplicaTiming> = {}, gpus = 2) {
  const identity = await newIdentity();
  const messages: TunnelControlToWorker[] = [];
  const log = createMemoryLogger();
  const pool = new GpuPool(Array.from({ length: gpus }, (_, index) => ({ index, model: GPU })));
  const manager = new ReplicaManager({
    runtime: createProcessRuntime({ stopGraceMs: 1_000 }),
    gpus: pool,
    identity,
    send: (m) => messages.push(m),
    log,
    timing: { ...FAST, ...timing },
  });
  managers.push(manager);
  const states = (id: string) => messages.filter((m): m is StateMessage => m.type === 'replica_state' && m.replicaId === id);
  const stateNames = (id: string) => states(id).map((m) => m.state);
  const lastState = (id: string) => states(id).at(-1);
  const receipts = (id: string) => messages.filter((m): m is ReceiptMessage => m.type === 'replica_receipt' && m.replicaId === id);
  const until = (id: string, state: ReplicaState, timeoutMs = 10_000) =>
    waitFor(() => lastState(id)?.state === state, `${id} ${state} (now ${stateNames(id).join(' → ')})`, timeoutMs);
  return { identity, messages, log, pool, manager, states, stateNames, lastState, receipts, until };
}

const spec = (replicaId: string, env: Record<string, string> = {}, overrides: Record<string, unknown> = {}) => ({
  replicaId,
  endpointId: 'ep_test',
  image: 'ghcr.io/acme/serve:1',
  command: [process.execPath, SERVER],
  env,
  port: 8000,
  healthPath: '/health',
  gpus: { count: 1, model: 'RTX 4090' },
  ...overrides,
});

async function get(port: number, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`);
}
async function stats(port: number): Promise<{
  pid: number;
  childPid: number | null;
  healthChecks: number;
  healthFailures: number;
  firstOkAt: number | null;
  env: Record<string, string | null>;
}> {
  return (await (await get(port, '/stats')).json()) as never;
}
const control = (port: number, what: string) => fetch(`http://127.0.0.1:${port}/control/${what}`, { method: 'POST' });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pidFile = () => join(mkdtempSync(join(tmpdir(), 'replica-pid-')), 'pid');

describe('replica manager (process runtime, real servers)', () => {
  it('reports ready only once the health path answers 2xx; the server gets its port in PORT and a GPU of its own', async () => {
    const t = await setup();
    t.manager.apply([spec('rep_a', { MODEL: 'tiny', READY_AFTER_MS: '400' })]);
    await waitFor(() => t.lastState('rep_a')?.state === 'starting', 'starting');
    // Starting: not served yet, whatever port the process listens on.
    expect(t.manager.portOf('rep_a')).toBeNull();
    await t.until('rep_a', 'ready');
    expect(t.stateNames('rep_a')).toEqual(['starting', 'ready']);
    const port = t.manager.portOf('rep_a')!;
    expect(port).toBeGreaterThan(0);
    const s = await stats(port);
    // It said "not yet" before it said yes, and ready was reported after its first 2xx (one clock:
    // this machine's): ready followed the health path, not the process start.
    expect(s.healthFailures).toBeGreaterThan(0);
    expect(s.firstOkAt).not.toBeNull();
    expect(t.lastState('rep_a')!.at).toBeGreaterThanOrEqual(s.firstOkAt!);
    expect(s.env).toEqual({ PORT: String(port), CUDA_VISIBLE_DEVICES: '0', GRIDPLANE_SIMULATED: '1', MODEL: 'tiny' });
    expect(await (await get(port, '/')).text()).toBe(`hello from ${s.pid}`);
    expect(t.pool.busy()).toEqual([0]);
    expect(t.log.records.some((r) => r.message.startsWith('SIMULATED replica rep_a'))).toBe(true);
    expect(t.manager.portOf('rep_unknown')).toBeNull();
  });

  it('a replica that never becomes healthy is failed within the start timeout, with the reason, and stopped', async () => {
    const t = await setup({ startTimeoutMs: 700 });
    const file = pidFile();
    t.manager.apply([spec('rep_sick', { HEALTH: 'never', PID_FILE: file })]);
    await t.until('rep_sick', 'failed');
    expect(t.stateNames('rep_sick')).toEqual(['starting', 'failed']);
    expect(t.lastState('rep_sick')!.reason).toBe('not healthy within 700 ms: GET /health answered 503');
    // Failed is reported once the process is gone, and its GPU is free again.
    expect(alive(Number(readFileSync(file, 'utf8')))).toBe(false);
    expect(t.manager.portOf('rep_sick')).toBeNull();
    expect(t.pool.busy()).toEqual([]);
    // The same desired set again changes nothing: the failure is re-announced, nothing restarts.
    t.manager.apply([spec('rep_sick', { HEALTH: 'never', PID_FILE: file })]);
    expect(t.stateNames('rep_sick')).toEqual(['starting', 'failed', 'failed']);
    expect(t.pool.busy()).toEqual([]);
  });

  it('a replica that exits is reported and restarted; one that keeps exiting is failed with its last output (env values redacted)', async () => {
    const t = await setup();
    t.manager.apply([spec('rep_exit')]);
    await t.until('rep_exit', 'ready');
    const first = await stats(t.manager.portOf('rep_exit')!);
    await control(t.manager.portOf('rep_exit')!, 'exit?code=3');
    const restart = () => t.states('rep_exit').find((m) => m.state === 'starting' && m.reason !== undefined);
    await waitFor(() => restart() !== undefined && t.lastState('rep_exit')!.state === 'ready', 'ready again');
    expect(restart()!.reason).toBe('exited with code 3; last output: exiting as asked; restart 1 of 2');
    const second = await stats(t.manager.portOf('rep_exit')!);
    expect(second.pid).not.toBe(first.pid);
    expect(alive(first.pid)).toBe(false);

    t.manager.apply([spec('rep_exit'), spec('rep_crash', { CRASH: '1', SECRET_TOKEN: 'sk-live-abcdef123456' })]);
    await t.until('rep_crash', 'failed');
    expect(t.stateNames('rep_crash')).toEqual(['starting', 'starting', 'starting', 'failed']);
    const reason = t.lastState('rep_crash')!.reason!;
    expect(reason).toMatch(
      /^exited with code 7; last output: boom: could not load the model \(token \[redacted\]\); 2 restarts within 600 s, not restarting again$/,
    );
    expect(JSON.stringify(t.messages)).not.toContain('sk-live-abcdef123456');
    // rep_exit never stopped serving on its GPU; rep_crash gave its back.
    expect(t.pool.busy()).toEqual([0]);
  });

  it('unhealthy after failed checks in a row (still served), ready again when the health path answers', async () => {
    const t = await setup();
    t.manager.apply([spec('rep_h')]);
    await t.until('rep_h', 'ready');
    const port = t.manager.portOf('rep_h')!;
    await control(port, 'sick');
    await t.until('rep_h', 'unhealthy');
    expect(t.lastState('rep_h')!.reason).toBe('GET /health answered 500 (2 checks in a row)');
    expect(t.manager.portOf('rep_h')).toBe(port);
    await control(port, 'well');
    await t.until('rep_h', 'ready');
    expect(t.stateNames('rep_h')).toEqual(['starting', 'ready', 'unhealthy', 'ready']);
  });

  it('a desired set without a replica stops it; the others keep running; a changed spec restarts one', async () => {
    const t = await setup();
    const a = spec('rep_a', { MODEL: 'small', SPEED: 'fast' });
    t.manager.apply([a, spec('rep_b')]);
    await t.until('rep_a', 'ready');
    await t.until('rep_b', 'ready');
    const pidA = (await stats(t.manager.portOf('rep_a')!)).pid;
    const pidB = (await stats(t.manager.portOf('rep_b')!)).pid;
    expect(t.pool.busy()).toEqual([0, 1]);

    // The same spec again, its env in another order (as a JSON round trip may give it).
    t.manager.apply([{ ...a, env: { SPEED: 'fast', MODEL: 'small' } }]);
    expect(t.manager.portOf('rep_b')).toBeNull(); // out of service at once
    await t.until('rep_b', 'stopped');
    expect(alive(pidB)).toBe(false);
    expect(t.pool.busy()).toHaveLength(1);
    // rep_a was not touched: re-announced as ready, same process.
    expect(t.stateNames('rep_a')).toEqual(['starting', 'ready', 'ready']);
    expect((await stats(t.manager.portOf('rep_a')!)).pid).toBe(pidA);

    t.manager.apply([{ ...a, env: { MODEL: 'bigger', SPEED: 'fast' } }]);
    await waitFor(() => t.stateNames('rep_a').length === 5 && t.lastState('rep_a')!.state === 'ready', 'rep_a restarted');
    expect(t.states('rep_a')[3]).toMatchObject({ state: 'starting', reason: 'restarting with a new spec' });
    const now = await stats(t.manager.portOf('rep_a')!);
    expect(now.env.MODEL).toBe('bigger');
    expect(alive(pidA)).toBe(false);
    expect(t.stateNames('rep_a')).not.toContain('stopped');

    t.manager.apply([]);
    await t.until('rep_a', 'stopped');
    expect(t.pool.busy()).toEqual([]);
  });

  it('refuses bad specs with a clear reason and runs nothing for them; a good one in the same set runs', async () => {
    const t = await setup();
    t.manager.apply([
      spec('rep_flag', {}, { image: '--privileged' }),
      spec('rep_envname', { 'A=B': 'x' }),
      spec('rep_envvalue', { A: 'x\nLD_PRELOAD=/evil.so' }),
      spec('rep_nul', {}, { command: ['node', 'a\0b'] }),
      spec('rep_path', {}, { healthPath: '/health now' }),
      spec('rep_registry', {}, { image: '127.0.0.1:5000/x:1' }),
      spec('../etc', {}),
      spec('rep_gpus', {}, { gpus: { count: 3, model: 'RTX 4090' } }),
      spec('rep_model', {}, { gpus: { count: 1, model: 'H100 80GB' } }),
      spec('rep_good'),
    ]);
    await t.until('rep_good', 'ready');
    const reasons = Object.fromEntries(
      ['rep_flag', 'rep_envname', 'rep_envvalue', 'rep_nul', 'rep_path', 'rep_registry', 'rep_gpus', 'rep_model'].map((id) => [
        id,
        t.states(id).map((s) => `${s.state}: ${s.reason}`),
      ]),
    );
    expect(reasons).toEqual({
      rep_flag: [
        'failed: refused by the agent: image: must be a container image reference such as "python:3.12-slim" (lower-case name, optional :tag and @digest)',
      ],
      rep_envname: [expect.stringMatching(/^failed: refused by the agent: env\.A=B: names are upper-case letters/)],
      rep_envvalue: ['failed: refused by the agent: env.A: values are one line without NUL (no \\n, \\r or \\0)'],
      rep_nul: ['failed: refused by the agent: command.1: arguments cannot hold NUL'],
      rep_path: ['failed: refused by the agent: healthPath: must start with / and hold printable ASCII without spaces'],
      rep_registry: [expect.stringMatching(/^failed: refused by the agent: image: the registry must be a DNS name/)],
      // Valid specs this node cannot serve: nothing starts either.
      rep_gpus: ['starting: undefined', 'failed: not enough free GPUs on this node: 3 × RTX 4090 wanted'],
      rep_model: ['starting: undefined', 'failed: not enough free GPUs on this node: 1 × H100 80GB wanted'],
    });
    // An id that could not name a container is not reported as anything; it is logged.
    expect(t.states('../etc')).toEqual([]);
    expect(t.log.records.some((r) => r.event === 'replica_unreadable' && r.message.includes('replicaId: must be 1-64 letters'))).toBe(true);
    expect(t.pool.busy()).toEqual([0]);
    expect(
      t.manager
        .list()
        .filter((r) => r.port !== null)
        .map((r) => r.replicaId),
    ).toEqual(['rep_good']);
  });

  it('replicas and jobs share the GPU pool: a job finds the GPUs a replica holds busy', async () => {
    const t = await setup({}, 1);
    t.manager.apply([spec('rep_gpu')]);
    await t.until('rep_gpu', 'ready');
    const events: JobEvent[] = [];
    const runner = new JobRunner({
      runtime: createProcessRuntime(),
      report: async (_id, e) => {
        events.push(e);
        return 'ok';
      },
      gpus: t.pool,
      log: createMemoryLogger(),
      signal: new AbortController().signal,
    });
    const now = Date.now();
    runner.offer({
      id: 'job_1',
      image: 'python:3.12-slim',
      command: ['true'],
      env: {},
      gpus: { count: 1, allocation: [[GPU, 1]] },
      durationS: 60,
      acceptBy: now + 30_000,
      assignedAt: now,
    });
    await waitFor(() => events.length > 0, 'the job answered');
    expect(events).toEqual([{ eventId: 'job_1:rejected', kind: 'rejected', reason: 'the GPUs are busy' }]);
  });

  it('sends signed receipts of cumulative ready time that verify with the node key and never go down', async () => {
    const t = await setup();
    t.manager.apply([spec('rep_r')]);
    await t.until('rep_r', 'ready');
    await waitFor(() => t.receipts('rep_r').length >= 3, 'three receipts');
    await control(t.manager.portOf('rep_r')!, 'sick');
    await t.until('rep_r', 'unhealthy');
    const atUnhealthy = t.receipts('rep_r').length;
    await waitFor(() => t.receipts('rep_r').length >= atUnhealthy + 2, 'receipts while unhealthy');
    t.manager.apply([]);
    await t.until('rep_r', 'stopped');
    await waitFor(() => t.receipts('rep_r').length >= atUnhealthy + 3, 'the final receipt');

    const receipts = t.receipts('rep_r');
    // The Worker's own check (workers/endpoints/replica-receipt.ts), with the node id as the key.
    const verifies = (r: ReceiptMessage) => verifyReplicaReceipt(t.identity.nodeId, r);
    for (const r of receipts) expect(await verifies(r)).toBe(true);
    expect(await verifies({ ...receipts[0]!, replicaId: 'rep_other' })).toBe(false);
    // A receipt claiming more ready time than was signed does not verify.
    expect(await verifies({ ...receipts.at(-1)!, readyMs: receipts.at(-1)!.readyMs + 1 })).toBe(false);
    const ms = receipts.map((r) => r.readyMs);
    expect(ms[0]).toBeGreaterThan(0);
    expect([...ms].sort((a, b) => a - b)).toEqual(ms);
    // Unhealthy time is not ready time: the count stood still once it turned unhealthy (the first
    // receipt after the change may have been counted just before it), up to the final receipt.
    const still = ms.slice(atUnhealthy + 1);
    expect(still.length).toBeGreaterThanOrEqual(2);
    expect(new Set(still).size).toBe(1);
  });

  it('shutdown stops every replica, starting or ready, and leaves no process behind', async () => {
    const t = await setup();
    const file = pidFile();
    t.manager.apply([spec('rep_up', { SPAWN_CHILD: '1' }), spec('rep_slow', { HEALTH: 'never', PID_FILE: file })]);
    await t.until('rep_up', 'ready');
    await waitFor(() => readFileSafe(file) !== '', 'rep_slow running');
    const { pid, childPid } = await stats(t.manager.portOf('rep_up')!);
    const slowPid = Number(readFileSync(file, 'utf8'));
    expect([pid, childPid!, slowPid].map(alive)).toEqual([true, true, true]);
    await t.manager.shutdown();
    expect(t.lastState('rep_up')!.state).toBe('stopped');
    expect(t.lastState('rep_slow')!.state).toBe('stopped');
    expect(alive(pid)).toBe(false);
    expect(alive(slowPid)).toBe(false);
    // The server's own child was in its process group: gone too (reaped by init once orphaned).
    await waitFor(() => !alive(childPid!), 'the replica’s child gone');
    expect(t.pool.busy()).toEqual([]);
    t.manager.apply([spec('rep_late')]);
    expect(t.states('rep_late')).toEqual([]);
  });
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
