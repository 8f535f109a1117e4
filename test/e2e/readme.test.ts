import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { mismatch, readme, section, shellBlocks, stepsOf, type Step } from './readme-steps.ts';

// README.md's "By hand" section, run as written: its own shell blocks, read from the file, against
// a real local control plane and a real agent process. The only changes are the ones a reader
// makes: the port (the stack runs on a free one, not 8787) and the placeholders the README marks,
// filled from the answers it marks. `npm start` is started through startLocalStack, which runs
// that same `npm start` with a free port and a state directory of its own. Commands run in a
// scratch directory holding a link to edge-agent/, so `./.gridplane-agent` lands there and not in
// the tree. The test fails if a command fails, an answer lacks what its comment says, a wait the
// README does not tell the reader to repeat is needed, or the job does not end billed.

const run = promisify(execFile);
const REPEAT_FOR_MS = 180_000;

let stack: LocalStack | undefined;
let scratch: string | undefined;
const background: { command: string; child: ChildProcess; output: () => string }[] = [];

afterAll(async () => {
  for (const { child } of background) await stopGroup(child);
  await stack?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('README.md, followed word for word', () => {
  it('"By hand" ends with the job the reader submitted run and billed', async () => {
    const steps = shellBlocks(section(readme(), 'By hand')).flatMap(stepsOf);
    expect(steps[0]).toMatchObject({ command: 'npm start', keepsRunning: true });
    scratch = mkdtempSync(join(tmpdir(), 'gridplane-readme-'));
    symlinkSync(join(repoRoot, 'edge-agent'), join(scratch, 'edge-agent'));
    const answers = new Map<string, Record<string, unknown>>();

    for (const step of steps) {
      if (step.command === 'npm start') {
        stack = await startLocalStack();
        continue;
      }
      if (!stack) throw new Error(`"${step.command}" comes before npm start`);
      const command = fill(step.command, new URL(stack.url).port, answers);
      if (step.keepsRunning) {
        background.push(startBackground(command, scratch));
        continue;
      }
      const answer = await answerOf(step, command, scratch);
      if (step.expect?.label) answers.set(step.expect.label, answer as Record<string, unknown>);
    }

    // Where the README leaves the reader: the job it submitted ran on the node it set up and was
    // billed, and the renter paid exactly what the bill charged.
    const node = answers.get('node')!;
    const job = answers.get('job')!;
    const renter = answers.get('renter')! as { apiKey: string };
    expect(job.nodeId).toBe(node.nodeId);
    const auth = { headers: { authorization: `Bearer ${renter.apiKey}` } };
    const final = (await (await fetch(`${stack!.url}/v1/jobs/${String(job.id)}`, auth)).json()) as {
      status: string;
      billing: { captured: string; refunded: string; billedGpuSeconds: number };
    };
    expect(final.status).toBe('succeeded');
    expect(final.billing.billedGpuSeconds).toBeGreaterThan(0);
    const logs = (await (await fetch(`${stack!.url}/v1/jobs/${String(job.id)}/logs`, auth)).json()) as { logs: { data: string }[] };
    expect(logs.logs.map((l) => l.data).join('')).toContain('hello from my first job');
    const balance = (await (await fetch(`${stack!.url}/v1/accounts/me/balance`, auth)).json()) as { baseUnits: string };
    expect(Number(balance.baseUnits)).toBe(100_000_000 - baseUnits(final.billing.captured));
  }, 900_000);
});

/** The port, and every `<label.field>` from the answer marked `label`; nothing else changes. */
function fill(command: string, port: string, answers: Map<string, Record<string, unknown>>): string {
  const filled = command.replaceAll(':8787', `:${port}`).replace(/<([a-z]+)\.([A-Za-z]+)>/g, (whole, label: string, field: string) => {
    const value = answers.get(label)?.[field];
    if (typeof value !== 'string') throw new Error(`${whole} in "${command}": no earlier answer marked ${label} has a ${field}`);
    return value;
  });
  const left = /<[^<>\s]+>/.exec(filled);
  if (left) throw new Error(`"${command}" has a placeholder the README does not explain: ${left[0]}`);
  return filled;
}

/** Runs the command (again and again, where the README says to repeat) until the answer matches. */
async function answerOf(step: Step, command: string, cwd: string): Promise<unknown> {
  const deadline = Date.now() + REPEAT_FOR_MS;
  for (;;) {
    const { stdout } = await run('bash', ['-c', command], { cwd, timeout: 60_000 }).catch((error: { stderr?: string; stdout?: string }) => {
      throw new Error(`"${command}" failed: ${error.stderr ?? ''}${error.stdout ?? ''}${backgroundOutput()}`);
    });
    let answer: unknown;
    try {
      answer = JSON.parse(stdout);
    } catch {
      if (step.expect) throw new Error(`"${command}" answered no JSON: ${stdout}`);
      return stdout;
    }
    const problem = step.expect ? mismatch(answer, step.expect) : mismatch(answer, { fields: [] });
    if (problem === undefined) return answer;
    if (!step.repeatUntil || Date.now() > deadline) {
      throw new Error(`"${command}" → ${problem} (the README says: # ${step.comment})\n${stdout}${backgroundOutput()}`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function startBackground(command: string, cwd: string) {
  const child = spawn('bash', ['-c', command], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { command, child, output: () => output };
}

function backgroundOutput(): string {
  return background.map((b) => `\n--- ${b.command}\n${b.output().slice(-3000)}`).join('');
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

const baseUnits = (amount: string) => Math.round(Number(amount) * 1_000_000);
