import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase58 } from '../../protocol/base58.ts';
import { repoRoot, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { runProcess, type ProcessRun } from '../support/run-process.ts';
import type { AgentProcess } from './agent-process.ts';
import { baseUnits, readyAgent, reconciled, waitForStatus, type E2eRenter } from './jobs-helpers.ts';

// The `gridplane` CLI as a renter runs it, a process against the real local control plane and a
// real agent (simulate mode) in Paris: login from standard input, balance, quote, deposit (the
// Solana Pay link and its QR code), run (logs streamed, the bill printed), logs, jobs, cancel,
// --json, and a bad key's error. The machine's Node 20 runs it where there is one.

const NODE20 = ['/usr/bin/node', '/usr/local/bin/node'].find(
  (p) => existsSync(p) && execFileSync(p, ['--version'], { encoding: 'utf8' }).startsWith('v20.'),
);
const NODE = NODE20 ?? process.execPath;
const BIN = join(repoRoot, 'bin/gridplane.mjs');
const PARIS = ['--lat', '48.85', '--lon', '2.35'];

let stack: LocalStack;
let agent: AgentProcess;
let renter: E2eRenter;
let apiKey: string;
const home = mkdtempSync(join(tmpdir(), 'gridplane-cli-home-'));

function cli(args: string[], options: { input?: string; node?: string } = {}): Promise<ProcessRun> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, GRIDPLANE_URL: stack.url, GRIDPLANE_POLL_MS: '300' };
  return runProcess(options.node ?? NODE, [BIN, ...args], { env, input: options.input });
}

beforeAll(async () => {
  stack = await startLocalStack({
    HEARTBEAT_INTERVAL_S: '1',
    HEARTBEAT_SHARDS: '4',
    // Enough settlement configuration to hand out deposit requests; no chain is asked for them.
    SOLANA_RPC_URL: 'http://127.0.0.1:9',
    SOLANA_GENESIS_HASH: encodeBase58(new Uint8Array(32).fill(7)),
    TOKEN_MINT: encodeBase58(new Uint8Array(32).fill(3)),
    TREASURY_SECRET_KEY: encodeBase58(crypto.getRandomValues(new Uint8Array(64))),
  });
  agent = await readyAgent(stack, { name: 'paris', lat: 48.86, lon: 2.35, country: 'FR', simulateGpus: 'RTX 4090x1' });
  // The renter's account, as the e2e helpers make one (a dev account and the faucet); its key is the CLI's.
  const created = (await (await fetch(`${stack.url}/v1/dev/accounts`, { method: 'POST' })).json()) as { accountId: string; apiKey: string };
  apiKey = created.apiKey;
  const funded = await fetch(`${stack.url}/v1/dev/faucet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: created.accountId, amount: '100.000000' }),
  });
  expect(funded.status).toBe(201);
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  renter = {
    accountId: created.accountId,
    call,
    balance: async () => baseUnits(((await (await call('GET', '/v1/accounts/me/balance')).json()) as { balance: string }).balance),
  };
});

afterAll(async () => {
  await agent?.stop();
  await stack?.stop();
});

describe('gridplane CLI', () => {
  it('refuses a bad key clearly, logs in from standard input and keeps the key private', async () => {
    const bad = await cli(['balance', '--api-key', 'gpk_not-a-real-key']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('(unauthorized, HTTP 401)');
    expect(bad.stderr).toContain('gridplane login');
    const none = await cli(['balance']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No API key');

    const login = await cli(['login'], { input: `${apiKey}\n` });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Logged in to');
    const path = join(home, '.config', 'gridplane', 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ url: stack.url, apiKey });

    const balance = await cli(['balance']);
    expect(balance.stdout.trim()).toMatch(/^100\.000000 tokens \(account acc_/);
    const asJson = JSON.parse((await cli(['balance', '--json'], { node: process.execPath })).stdout);
    expect(asJson).toMatchObject({ balance: '100.000000', baseUnits: '100000000' });
  });

  it("quotes, and passes the control plane's refusal on clearly", async () => {
    const quote = await cli(['quote', '--gpu', '4090', '--duration', '60s', ...PARIS]);
    expect(quote.code).toBe(0);
    expect(quote.stdout).toContain(agent.nodeId);
    expect(quote.stdout).toContain('1.250000');
    const json = JSON.parse((await cli(['quote', '--gpu', '4090', ...PARIS, '--json'])).stdout);
    expect(json.candidates[0].nodeId).toBe(agent.nodeId);
    const refused = await cli(['quote', '--gpu', '4090', ...PARIS, '--max-price', 'cheap']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^gridplane: maxPricePerGpuHour: .+ \(invalid_request, HTTP 400\)/);
    const usage = await cli(['quote', '--count', 'two']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--count: "two" is not a whole number');
  });

  it('deposit prints a Solana Pay link and its QR code', async () => {
    const human = await cli(['deposit', '--amount', '5']);
    expect(human.code).toBe(0);
    const url = /(solana:\S+)/.exec(human.stdout)![1]!;
    expect(url).toContain('amount=5');
    expect(human.stdout).toMatch(/[█▀▄]{20,}/);
    const json = JSON.parse((await cli(['deposit', '--json'])).stdout);
    expect(json.url).toMatch(/^solana:/);
    expect(json.amount).toBeNull();
  });

  it("run streams the job's logs until it ends and prints the bill; logs and jobs show it after", async () => {
    const script = "console.log('hello from the cli job'); console.log('token ' + process.env.SECRET_TOKEN); setTimeout(() => {}, 1500)";
    const run = await cli([
      'run',
      '--gpu',
      'RTX 4090',
      '--duration',
      '60s',
      ...PARIS,
      '--image',
      'python:3.12-slim',
      '--env',
      'SECRET_TOKEN=s3cr3t-cli-value',
      '--',
      process.execPath,
      '-e',
      script,
    ]);
    expect(run.stderr).toMatch(/Job job_\w+ placed on node /);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('hello from the cli job');
    expect(run.stdout).toContain('token [redacted]');
    expect(run.stdout).not.toContain('s3cr3t-cli-value');
    expect(run.stderr).toContain('· running');
    const jobId = /Job (job_\w+)/.exec(run.stderr)![1]!;
    const job = await waitForStatus(renter, jobId, ['succeeded']);
    expect(run.stderr).toContain(
      `Bill for ${jobId} (succeeded, exit code 0): ${job.billing.billedGpuSeconds} GPU-seconds at 1.250000 per GPU-hour: paid ${job.billing.captured} tokens`,
    );
    expect(run.stderr).toContain(`refunded ${job.billing.refunded} of the ${job.escrow} held`);

    const logs = await cli(['logs', jobId]);
    expect(logs.stdout).toContain('hello from the cli job');
    const jobs = await cli(['jobs', '--json']);
    expect(JSON.parse(jobs.stdout).jobs.map((j: { id: string }) => j.id)).toContain(jobId);
    expect((await cli(['jobs'])).stdout).toMatch(new RegExp(`${jobId}\\s+succeeded`));
  });

  it('run --json prints one JSON event per line, ending with the billed job; a failing job exits with its code', async () => {
    const run = await cli([
      'run',
      '--json',
      '--duration',
      '60s',
      ...PARIS,
      '--image',
      'python:3.12-slim',
      '--',
      process.execPath,
      '-e',
      "console.log('out'); process.exit(3)",
    ]);
    expect(run.code).toBe(3);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; [k: string]: any });
    expect(events[0]!.event).toBe('submitted');
    expect(events.filter((e) => e.event === 'log').map((e) => e.data)).toContain('out\n');
    const last = events.at(-1)!;
    expect(last.event).toBe('finished');
    expect(last.job).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(last.job.billing.captured).toEqual(expect.any(String));
  });

  it('cancel stops a running job and prints what it cost', async () => {
    const res = await renter.call('POST', '/v1/jobs', {
      gpu: { count: 1 },
      durationS: 120,
      client: { lat: 48.85, lon: 2.35 },
      image: 'python:3.12-slim',
      command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'],
    });
    expect(res.status).toBe(201);
    const { id, escrow } = (await res.json()) as { id: string; escrow: string };
    await waitForStatus(renter, id, ['running']);
    const cancel = await cli(['cancel', id]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`Job ${id} cancelled.`);
    const job = await waitForStatus(renter, id, ['cancelled']);
    expect(cancel.stdout).toContain(`refunded ${job.billing.refunded} of the ${escrow} held`);
    expect(baseUnits(job.billing.captured) + baseUnits(job.billing.refunded)).toBe(baseUnits(escrow));
    const again = await cli(['cancel', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('job_closed');
    expect(await reconciled(stack)).toBe(true);
  });
});
