// A stand-in nvidia-smi: a shell script that prints a recorded fixture and exits with a chosen
// code, but only when called with exactly the arguments the agent is meant to pass.
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const EXPECTED_ARGS =
  '--query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw --format=csv,noheader,nounits';

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

export async function fakeNvidiaSmi(fixture: string, exitCode = 0): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-nvidia-smi-'));
  const path = join(dir, 'nvidia-smi');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(
    path,
    [
      '#!/bin/sh',
      `if [ "$*" != ${quote(EXPECTED_ARGS)} ]; then echo "stand-in nvidia-smi: unexpected arguments: $*" >&2; exit 2; fi`,
      `cat ${quote(fixturePath(fixture))}`,
      `exit ${exitCode}`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}
