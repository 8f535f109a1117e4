// `gridplane-agent doctor`: gathers facts, runs the checks, prints each verdict with its fix.
// Exit 0 when nothing failed (warnings allowed), 1 otherwise.
import type { ConfigOverrides } from '../config.ts';
import { runChecks, type CheckResult } from '../doctor/checks.ts';
import { gatherFacts, type GatherOptions } from '../doctor/gather.ts';
import type { CommandIo } from './io.ts';

export interface DoctorInput {
  home: string;
  overrides: ConfigOverrides;
  json: boolean;
  /** For tests: another fetch, docker path or verification image. */
  gather?: Partial<GatherOptions>;
}

const LABEL: Record<CheckResult['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export async function doctorCommand(input: DoctorInput, io: CommandIo): Promise<number> {
  const facts = await gatherFacts({ home: input.home, overrides: input.overrides, ...input.gather });
  const results = runChecks(facts);
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  if (input.json) {
    for (const r of results) io.out(JSON.stringify(r));
    io.out(JSON.stringify({ summary: { failed, warnings: warned, ok: failed === 0 } }));
    return failed === 0 ? 0 : 1;
  }
  const width = Math.max(...results.map((r) => r.id.length));
  for (const r of results) {
    io.out(`${LABEL[r.status]}  ${r.id.padEnd(width)}  ${r.detail}`);
    if (r.fix) io.out(`${' '.repeat(width + 8)}fix: ${r.fix}`);
  }
  io.out(
    failed === 0
      ? `no problems${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`
      : `${failed} problem${failed === 1 ? '' : 's'} to fix${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}`,
  );
  return failed === 0 ? 0 : 1;
}
