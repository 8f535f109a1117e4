// `npm run mutate`: applies each breaking edit of mutations.ts on its own, runs the tests that
// guard it, and reports which edits survived (left their tests green). It works in a scratch copy
// of the working tree (node_modules linked), so the tree you work in is never left mutated, even
// if the run is killed. First it runs every guarding test file unmutated: a mutation only counts as
// killed against tests that pass without it.
//
//   npm run mutate                    every mutation
//   npm run mutate -- --only a,b      the named ones
//   npm run mutate -- --list          names and what each breaks
//   npm run mutate -- --json FILE     also write the results as JSON (the bench reads this)
//
// Exit status: 0 when every mutation was killed; 1 when one survived, no longer applies, or its
// tests fail unmutated.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MUTATIONS, type Mutation, type Suite } from './mutations.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const COPY_SKIP = new Set(['node_modules', '.git', '.wrangler', 'test-output', 'dist']);

export interface MutationResult {
  name: string;
  outcome: 'killed' | 'survived' | 'not_applicable' | 'guard_fails_unmutated';
  seconds: number;
  detail?: string;
}

function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gridplane-mutate-'));
  cpSync(ROOT, dir, { recursive: true, filter: (src) => !COPY_SKIP.has(src.slice(ROOT.length + 1).split('/')[0] ?? '') || src === ROOT });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function runTests(dir: string, suite: Suite, tests: string[]): { ok: boolean; output: string } {
  const run = spawnSync(
    process.execPath,
    [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', `test/${suite}/vitest.config.ts`, '--reporter=dot', ...tests],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 64 * 1024 * 1024 },
  );
  return { ok: run.status === 0, output: `${run.stdout}\n${run.stderr}` };
}

const occurrences = (text: string, find: string) => text.split(find).length - 1;

function applyAndRun(dir: string, m: Mutation): MutationResult {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const path = join(dir, m.file);
  let original: string;
  try {
    original = readFileSync(path, 'utf8');
  } catch {
    return { name: m.name, outcome: 'not_applicable', seconds: 0, detail: `${m.file} does not exist` };
  }
  const count = occurrences(original, m.find);
  if (count !== 1)
    return { name: m.name, outcome: 'not_applicable', seconds: 0, detail: `the text to replace occurs ${count} times in ${m.file}` };
  writeFileSync(path, original.replace(m.find, m.replace));
  try {
    const { ok } = runTests(dir, m.suite, m.tests);
    return { name: m.name, outcome: ok ? 'survived' : 'killed', seconds: seconds() };
  } finally {
    writeFileSync(path, original);
  }
}

function main() {
  const args = process.argv.slice(2);
  if (args.includes('--list')) {
    for (const m of MUTATIONS) console.log(`${m.name.padEnd(38)} ${m.breaks}`);
    return;
  }
  const onlyArg = args[args.indexOf('--only') + 1];
  const only = args.includes('--only') && onlyArg ? new Set(onlyArg.split(',')) : null;
  const jsonArg = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
  const chosen = MUTATIONS.filter((m) => !only || only.has(m.name));
  if (only && chosen.length !== only.size)
    throw new Error(`unknown mutation in --only: ${[...only].filter((n) => !MUTATIONS.some((m) => m.name === n)).join(', ')}`);

  const dir = scratchCopy();
  const results: MutationResult[] = [];
  try {
    // Each guarding test set must pass unmutated, or a failure under mutation proves nothing.
    // One run per suite over all its guarding files; only when that fails, one run per file to
    // find which.
    const guardFailures = new Map<string, string>();
    const bySuite = new Map<Suite, Set<string>>();
    for (const m of chosen) for (const t of m.tests) bySuite.set(m.suite, (bySuite.get(m.suite) ?? new Set()).add(t));
    for (const [suite, files] of bySuite) {
      process.stdout.write(`unmutated ${suite}: ${files.size} guarding files … `);
      const all = runTests(dir, suite, [...files]);
      console.log(all.ok ? 'pass' : 'FAIL; finding which');
      if (all.ok) continue;
      for (const file of files) {
        const run = runTests(dir, suite, [file]);
        if (!run.ok) guardFailures.set(`${suite}:${file}`, run.output.slice(-4000));
      }
    }
    for (const m of chosen) {
      const failing = m.tests.filter((t) => guardFailures.has(`${m.suite}:${t}`));
      let result: MutationResult;
      if (failing.length > 0) result = { name: m.name, outcome: 'guard_fails_unmutated', seconds: 0, detail: failing.join(', ') };
      else result = applyAndRun(dir, m);
      results.push(result);
      console.log(`${result.outcome.padEnd(22)} ${m.name} (${result.seconds} s)${result.detail ? ` — ${result.detail}` : ''}`);
    }
    for (const [key, output] of guardFailures) console.error(`\n--- ${key} fails without any mutation:\n${output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const survived = results.filter((r) => r.outcome !== 'killed');
  console.log(
    `\nmutations: ${results.length} applied one at a time, ${results.length - survived.length} killed, ${survived.length} not killed`,
  );
  for (const r of survived) console.log(`  NOT KILLED: ${r.name} (${r.outcome})`);
  if (jsonArg) writeFileSync(jsonArg, JSON.stringify({ results }, null, 2));
  process.exitCode = survived.length === 0 ? 0 : 1;
}

main();
