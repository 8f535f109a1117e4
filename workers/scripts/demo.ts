// `npm run demo`: the whole loop in one command, for a newcomer after `npm install`. It starts a
// local control plane (`npm start` on a free port, state in a temporary directory, so your own
// `.wrangler/` is untouched) and a simulated agent, makes the node eligible the way an operator
// does (a dev account whose wallet owns the node, test tokens, the minimum stake; the agent
// answers its hardware challenge by itself), rents it as a renter does, streams the job's logs and
// prints the bill. Every step is a plain HTTP call to the public API, so this file doubles as a
// walkthrough; the README's "By hand" section is the same steps with curl.
//
//   npm run demo                                   # its own control plane, stopped at the end
//   npm run demo -- --url http://127.0.0.1:8787    # a control plane you already run (npm start)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
const AGENT = join(root, 'edge-agent/bin/gridplane-agent.mjs');
const GPUS = 'RTX 4090x1';
// Printed to the job's output by the job itself; the process runtime of a simulated agent runs it
// as a local process (no image, no GPU), so it must only need a POSIX shell.
const JOB_SCRIPT =
  'echo "hello from job $GRIDPLANE_JOB_ID on GPU $CUDA_VISIBLE_DEVICES"; for i in 1 2 3; do echo "step $i of 3"; sleep 1; done; echo done';
const STEP_TIMEOUT_MS = 120_000;

const { values: flags } = parseArgs({ options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (flags.help) {
  console.log(
    'usage: npm run demo [-- --url http://127.0.0.1:8787]\n  without --url it starts its own control plane and stops it at the end',
  );
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'gridplane-demo-'));
const children: { child: ChildProcess; group: boolean }[] = [];
let keepWork = false;

function say(text: string): void {
  console.log(text);
}

async function cleanUp(): Promise<void> {
  for (const { child, group } of children.reverse()) await stop(child, group);
  if (!keepWork) rmSync(work, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void cleanUp().then(() => process.exit(130)));
}

try {
  await main();
  await cleanUp();
} catch (error) {
  keepWork = true;
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error(`logs of the control plane and the agent are kept in ${work}`);
  await cleanUp();
  process.exit(1);
}

async function main(): Promise<void> {
  const adminToken = flags.url ? undefined : randomBytes(24).toString('hex');
  const url = flags.url?.replace(/\/+$/, '') ?? (await startControlPlane(adminToken!));
  if (flags.url) say(`1. The control plane at ${url} (yours: it keeps running after the demo).`);
  const api = client(url);

  say('\n2. An operator: a development account. Its wallet will own the node, so it can stake on it.');
  const operator = await api.post<{ accountId: string; apiKey: string; wallet: string }>('/v1/dev/accounts');
  say(`   account ${operator.accountId}, wallet ${operator.wallet}`);

  say(`\n3. The edge agent, with simulated GPUs (${GPUS}): init makes its device key, run registers it.`);
  const home = join(work, 'agent');
  const init = spawnSync(
    process.execPath,
    [
      AGENT,
      'init',
      '--home',
      home,
      '--url',
      url,
      '--owner',
      operator.wallet,
      '--name',
      'demo-rig',
      '--lat=48.86',
      '--lon=2.35',
      '--country',
      'FR',
      '--price-per-gpu-hour',
      '1.250000',
      '--simulate-gpus',
      GPUS,
      '--json',
    ],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`gridplane-agent init failed:\n${init.stderr}${init.stdout}`);
  const nodeId = (JSON.parse(init.stdout.trim().split('\n').at(-1)!) as { nodeId: string }).nodeId;
  say(`   node id ${nodeId}`);
  const agentLog = join(work, 'agent.log');
  startLogged(process.execPath, [AGENT, 'run', '--home', home], agentLog);
  say(`   agent running (its output: ${agentLog})`);
  const node = () => api.get<{ status: string; eligible: boolean; verifiedAt: string | null }>(`/v1/nodes/${nodeId}`);
  await waitFor('the node to register and come online', async () => (await node().catch(() => undefined))?.status === 'online');
  say('   online');

  say('\n4. Make it eligible: test tokens from the faucet, then the minimum stake per GPU.');
  const params = await api.get<{ params: { name: string; value: string }[] }>('/v1/governance/params');
  const minStake = params.params.find((p) => p.name === 'min_stake_per_gpu')!.value;
  await api.post('/v1/dev/faucet', { accountId: operator.accountId, amount: minStake });
  await api.post(
    '/v1/staking/stake',
    { nodeId, amount: minStake },
    { authorization: `Bearer ${operator.apiKey}`, 'idempotency-key': `demo-${nodeId}` },
  );
  say(`   staked ${minStake} tokens; waiting for the agent to pass its hardware challenge (simulated GPUs: solved on the CPU)`);
  await waitFor('the node to become eligible (verified and staked)', async () => (await node()).eligible === true);
  say('   eligible: it can take jobs');

  say('\n5. A renter: another account with 100 test tokens asks for one RTX 4090 near Paris for 60 s.');
  const renter = await api.post<{ accountId: string; apiKey: string }>('/v1/dev/accounts');
  await api.post('/v1/dev/faucet', { accountId: renter.accountId, amount: '100.000000' });
  const asRenter = { authorization: `Bearer ${renter.apiKey}` };
  const balance = async (apiKey: string) =>
    (await api.get<{ balance: string }>('/v1/accounts/me/balance', { authorization: `Bearer ${apiKey}` })).balance;
  const renterBefore = await balance(renter.apiKey);
  const job = await api.post<{ id: string; nodeId: string; escrow: string; pricePerGpuHour: string }>(
    '/v1/jobs',
    {
      gpu: { model: 'RTX 4090', count: 1 },
      durationS: 60,
      client: { lat: 48.85, lon: 2.35 },
      image: 'ubuntu:24.04',
      command: ['sh', '-c', JOB_SCRIPT],
    },
    { ...asRenter, 'idempotency-key': `demo-job-${nodeId}` },
  );
  say(`   job ${job.id} placed on ${job.nodeId === nodeId ? 'the demo node' : job.nodeId}; ${job.escrow} tokens held in escrow`);

  say('\n6. Its logs, as the agent streams them:');
  let after = -1;
  let status = '';
  type Logs = { status: string; logs: { seq: number; stream: string; data: string }[]; next: number };
  await waitFor('the job to finish', async () => {
    const page = await api.get<Logs>(`/v1/jobs/${job.id}/logs?after=${after}`, asRenter);
    for (const line of page.logs.flatMap((l) => l.data.replace(/\n$/, '').split('\n'))) say(`   │ ${line}`);
    after = page.next;
    status = page.status;
    return ['succeeded', 'failed', 'cancelled', 'expired'].includes(page.status) && page.logs.length === 0;
  });

  type Billing = { billedGpuSeconds: number; receiptGpuSeconds: number; captured: string; fee: string; operator: string; refunded: string };
  const done = await api.get<{ status: string; exitCode: number | null; billing: Billing | null }>(`/v1/jobs/${job.id}`, asRenter);
  if (!done.billing) throw new Error(`job ${job.id} ended ${status} without a bill`);
  const b = done.billing;
  say(`\n7. The bill (job ${done.status}, exit code ${done.exitCode}):`);
  say(`   price               ${job.pricePerGpuHour} tokens per GPU-hour`);
  say(`   held in escrow      ${job.escrow}`);
  say(`   billed              ${b.billedGpuSeconds} GPU-seconds (the agent's signed receipt: ${b.receiptGpuSeconds})`);
  say(`   charged             ${b.captured}`);
  say(`     to the operator   ${b.operator}`);
  say(`     protocol fee      ${b.fee}`);
  say(`   refunded            ${b.refunded}`);
  say(`   renter balance      ${renterBefore} → ${await balance(renter.apiKey)}`);
  say(`   operator balance    ${await balance(operator.apiKey)} (plus ${minStake} staked)`);
  if (adminToken) {
    const reconcile = await api.get<{ ok: boolean }>('/v1/admin/ledger/reconcile', { authorization: `Bearer ${adminToken}` });
    say(`   ledger reconciles   ${reconcile.ok ? 'yes' : 'NO'}`);
  }
  if (done.status !== 'succeeded') throw new Error(`the job ended ${done.status}`);
  say('\nDone. Next: README.md "By hand" does the same with curl against `npm start`.');
}

/** `npm start` on a free port with its own state directory and a 2 s heartbeat, so the demo is quick. */
async function startControlPlane(adminToken: string): Promise<string> {
  const port = await freePort();
  const log = join(work, 'control-plane.log');
  say(`1. A local control plane: npm start on port ${port}, state in ${join(work, 'state')} (its output: ${log}).`);
  say('   The first start takes a while: wrangler applies the D1 migrations and starts workerd.');
  const vars = { ENVIRONMENT: 'development', ADMIN_TOKEN: adminToken, HEARTBEAT_INTERVAL_S: '2' };
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = [
    'start',
    '--',
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--persist-to',
    join(work, 'state'),
    '--show-interactive-dev-session=false',
  ];
  const child = startLogged(npm, [...args, ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])], log, true);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the control plane to answer /health', async () => {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}; see ${log}`);
    return (await fetch(`${url}/health`).catch(() => undefined))?.ok === true;
  });
  say(`   up at ${url} (explorer: ${url}/)`);
  return url;
}

/** Starts a child whose output goes to a file; `group`: in its own process group (npm's children go too). */
function startLogged(command: string, args: string[], logFile: string, group = false): ChildProcess {
  writeFileSync(logFile, '');
  const child = spawn(command, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  const append = (d: Buffer) => writeFileSync(logFile, d, { flag: 'a' });
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  children.push({ child, group });
  return child;
}

async function stop(child: ChildProcess, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (group) process.kill(-child.pid!, signal);
      else child.kill(signal);
    } catch {
      // already gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function client(url: string) {
  async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }
  return {
    get: <T>(path: string, headers?: Record<string, string>) => call<T>('GET', path, undefined, headers),
    post: <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
  };
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

/** Polls until `check` is true; the last error seen is in the timeout's message. */
async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
      if (String(error).includes('exited with')) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s waiting for ${what}${last ? ` (last: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
