// The mutation run's count in the bench: spawns `npm run mutate`'s script and reads its JSON.
// A survivor is a guarantee no test pins; the count belongs beside the other figures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchRow } from '../bench-table.ts';
import type { MutationResult } from '../../mutate/run.ts';

export function mutateBench(): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'gridplane-mutate-bench-'));
  const out = join(dir, 'mutate.json');
  const started = performance.now();
  try {
    spawnSync(process.execPath, [resolve(import.meta.dirname, '..', '..', 'mutate', 'run.ts'), '--json', out], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const { results } = JSON.parse(readFileSync(out, 'utf8')) as { results: MutationResult[] };
    const count = (outcome: MutationResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
    const notKilled = results.filter((r) => r.outcome !== 'killed').map((r) => `${r.name} (${r.outcome})`);
    return [
      { name: 'mutations applied (money, auth, webhooks)', value: results.length, unit: 'edits' },
      { name: 'killed by their tests', value: count('killed'), unit: 'edits' },
      { name: 'survived', value: count('survived'), unit: 'edits', note: notKilled.join(', ') || 'none' },
      { name: 'no longer apply, or tests fail unmutated', value: count('not_applicable') + count('guard_fails_unmutated'), unit: 'edits' },
      {
        name: 'mutation run',
        value: (performance.now() - started) / 1000,
        unit: 's',
        note: 'scratch copy; one vitest run per edit plus one per guarding file',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
