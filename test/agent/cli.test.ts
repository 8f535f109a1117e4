// The CLI as an operator (and the end-to-end test) runs it: `node edge-agent/bin/gridplane-agent.mjs`.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeControlPlane, OWNER, readPublicKey, tempDir, waitFor } from './helpers/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'edge-agent/bin/gridplane-agent.mjs');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function spawnRun(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { cwd: ROOT, env: process.env });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  children.push(child);
  return { child, output: () => output, exited };
}

const children: ChildProcessWithoutNullStreams[] = [];
let cp: FakeControlPlane;
let home: string;

beforeEach(async () => {
  cp = new FakeControlPlane({ nextHeartbeatS: 30 });
  await cp.listen();
  home = join(await tempDir(), 'agent-home');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cp.close();
});

async function init(extra: string[] = []) {
  const result = await cli([
    'init',
    '--home',
    home,
    '--url',
    cp.url,
    '--owner',
    OWNER,
    '--name',
    'rig-1',
    '--lat',
    '35.68',
    '--lon=139.69',
    '--country',
    'jp',
    '--price-per-gpu-hour',
    '1.250000',
    '--simulate-gpus',
    'RTX 4090x2',
    ...extra,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const key = await readPublicKey(home);
  cp.publicKey = key.publicKey;
  return { ...result, nodeId: key.nodeId };
}

describe('gridplane-agent CLI', () => {
  it('init writes a 0600 key and prints the node id; a second init needs --force', async () => {
    const { stdout, nodeId } = await init();
    expect(stdout).toContain(`node id:      ${nodeId}`);
    expect(stdout).toContain('SIMULATED RTX 4090x2');
    expect((await stat(join(home, 'device-key.pem'))).mode & 0o777).toBe(0o600);

    const again = await cli([
      'init',
      '--home',
      home,
      '--owner',
      OWNER,
      '--lat',
      '1',
      '--lon',
      '2',
      '--country',
      'SG',
      '--price-per-gpu-hour',
      '2',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; pass --force');
    const forced = await cli([
      'init',
      '--home',
      home,
      '--owner',
      OWNER,
      '--lat',
      '1',
      '--lon',
      '2',
      '--country',
      'SG',
      '--price-per-gpu-hour',
      '2',
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`node id:      ${nodeId}`);
    expect(forced.stdout).toContain('existing key kept');
  });

  it('init rejects bad flags with every problem listed and writes nothing', async () => {
    const result = await cli([
      'init',
      '--home',
      home,
      '--owner',
      'not-a-wallet',
      '--lat',
      '91',
      '--lon',
      '0',
      '--country',
      'JP',
      '--price-per-gpu-hour',
      '1.5.0',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/base58 Solana address[\s\S]*at owner/);
    expect(result.stderr).toMatch(/at pricePerGpuHour/);
    expect(result.stderr).toMatch(/at location.lat/);
    await expect(stat(home)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('register sends the simulated GPUs and prints the node id and status', async () => {
    const { nodeId } = await init();
    const first = await cli(['register', '--home', home]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`node id:  ${nodeId}`);
    expect(first.stdout).toContain('registered (new node)');
    expect(first.stdout).toContain('status:   online');
    expect(first.stdout).toContain('SIMULATED 2x NVIDIA GeForce RTX 4090');
    const again = await cli(['register', '--home', home]);
    expect(again.stdout).toContain('re-registered (details updated)');
    expect(cp.registrations().map((r) => (r.json as { gpus: unknown }).gpus)).toEqual([
      [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }],
      [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }],
    ]);
    expect(cp.registrations().every((r) => r.signatureValid === true)).toBe(true);
  });

  it('status asks the control plane, or says it is unreachable', async () => {
    const { nodeId } = await init();
    const before = await cli(['status'], { GRIDPLANE_AGENT_HOME: home });
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`node id:        ${nodeId}`);
    expect(before.stdout).toContain('remote status:  not registered');

    await cli(['register', '--home', home]);
    const after = await cli(['status', '--home', home]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('remote status:  online');
    expect(after.stdout).toContain('GPUs:           SIMULATED RTX 4090x2');

    await cp.close();
    const down = await cli(['status', '--home', home]);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/remote status: {2}unreachable: .*ECONNREFUSED/);
    await cp.listen();
  });

  it('run heartbeats until SIGTERM, then logs "stopped" and exits 0', async () => {
    await init();
    const run = spawnRun(['--home', home, '--interval-ms', '100']);
    await waitFor(() => cp.heartbeats().length >= 3, '3 heartbeats from the child');
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const out = run.output();
    expect(out).toMatch(/SIMULATED GPUs: 2x NVIDIA GeForce RTX 4090/);
    expect(out).toMatch(/SIMULATED heartbeat ok/);
    expect(out).toContain('received SIGTERM, stopping');
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/ stopped /);
    expect(cp.heartbeats().every((r) => r.signatureValid === true)).toBe(true);
    // Heartbeats ~100 ms apart, as --interval-ms asked (not the server's 30 s).
    const [a, b] = cp
      .heartbeats()
      .slice(1, 3)
      .map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(90);
    expect(b! - a!).toBeLessThan(5000);
  });

  it('SIGINT during an in-flight heartbeat aborts it and exits 0 (JSON logs)', async () => {
    await cp.close();
    cp = new FakeControlPlane({ onHeartbeat: (n) => (n === 2 ? { status: 0, hang: true } : undefined) });
    await cp.listen();
    await init();
    const run = spawnRun(['--home', home, '--interval-ms', '50', '--json']);
    await waitFor(() => cp.heartbeats().length >= 2, 'the hanging heartbeat');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const events = run
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; level: string });
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['start', 'simulated', 'registered', 'heartbeat', 'signal', 'stopped']),
    );
    expect(events.at(-1)!.event).toBe('stopped');
  });

  it('run refuses a device key that others can read', async () => {
    await init();
    await chmod(join(home, 'device-key.pem'), 0o644);
    const result = await cli(['run', '--home', home]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('are too open');
    expect(result.stderr).toContain('chmod 600');
    expect(cp.requests).toHaveLength(0);
  });

  it('explains usage mistakes', async () => {
    expect((await cli(['frobnicate'])).stderr).toContain('unknown command "frobnicate"');
    const badFlag = await cli(['run', '--home', home, '--interval', '5']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--interval'");
    expect((await cli(['run', '--home', home, '--interval-ms', 'soon'])).stderr).toContain('--interval-ms must be a positive whole number');
    expect((await cli(['--help'])).stdout).toContain('simulated GPU models: T4, A10, L4, RTX 3090');
  });
});
