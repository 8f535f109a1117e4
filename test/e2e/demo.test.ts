import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/local-stack.ts';
import { readme, section, shellBlocks, stepsOf } from './readme-steps.ts';

// README.md's first block is what a newcomer runs first: `npm install`, then `npm run demo`. The
// tree is installed already, so the test runs the second as a process, exactly as written, and
// checks it ends with a bill whose numbers agree with each other (the demo starts its own control
// plane and agent, and stops them).

describe('npm run demo, as README.md "Start here" says', () => {
  it('ends with the bill of a job that ran', async () => {
    const steps = shellBlocks(section(readme(), 'Start here'))[0]!;
    expect(stepsOf(steps).map((s) => s.command)).toEqual(['npm install', 'npm run demo']);

    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('bash', ['-c', 'npm run demo'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (exitCode) => resolve({ code: exitCode, output: out }));
    });
    expect(code, output).toBe(0);

    const bill = output.slice(output.indexOf('The bill'));
    expect(bill, output).toMatch(/^The bill \(job succeeded, exit code 0\):/);
    const amount = (label: string) => {
      const match = new RegExp(`^ +${label} +([0-9.]+)`, 'm').exec(bill);
      if (!match) throw new Error(`no "${label}" line in the bill:\n${bill}`);
      return Math.round(Number(match[1]) * 1_000_000);
    };
    const billed = Number(/billed +(\d+) GPU-seconds/.exec(bill)![1]);
    const price = amount('price');
    const escrow = amount('held in escrow');
    const charged = amount('charged');
    expect(billed).toBeGreaterThan(0);
    // The arithmetic of workers/jobs/README.md "Billing": rounding down, fee 10%, the rest back.
    expect(charged).toBe(Math.min(escrow, Math.floor((price * billed) / 3600)));
    expect(amount('protocol fee')).toBe(Math.floor((charged * 1000) / 10_000));
    expect(amount('to the operator')).toBe(charged - amount('protocol fee'));
    expect(amount('refunded')).toBe(escrow - charged);
    const renter = /renter balance +([0-9.]+) → ([0-9.]+)/.exec(bill)!;
    expect(Math.round((Number(renter[1]) - Number(renter[2])) * 1_000_000)).toBe(charged);
    expect(bill).toMatch(/ledger reconciles +yes/);
    // The logs the job printed came through the stream before the bill.
    expect(output.slice(0, output.indexOf('The bill'))).toMatch(/│ step 3 of 3/);
  }, 600_000);
});
