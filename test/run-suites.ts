// `npm test` after the typecheck: runs every vitest project, then compares the test files the
// runner reports (its JSON reporter) with the test files in the tree. It fails when they differ
// or when any project ran no file: a suite whose config stops collecting (as agent and browser
// once did, green all along) must fail the run, not pass it. Prints one closing line in the form
// CI reads: "tests: N passed, N failed, N skipped".
//
//   node test/run-suites.ts                 every suite, checked against the tree
//   node test/run-suites.ts <vitest args>   a filtered run (counts printed, tree not compared)

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  testResults: { name: string; status: string; assertionResults: unknown[] }[];
}

const ROOT = resolve(import.meta.dirname, '..');
/** The projects `vitest.config.ts` lists; a test file lives in exactly one of these folders. */
const PROJECTS = ['worker', 'unit', 'agent', 'e2e', 'browser'];
const SKIP_DIRS = new Set(['node_modules', '.git', '.wrangler', 'test-output', 'dist']);

function testFilesIn(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) testFilesIn(join(dir, entry.name), out);
    } else if (/\.test\.[cm]?[jt]sx?$/.test(entry.name)) {
      out.push(relative(ROOT, join(dir, entry.name)).split(sep).join('/'));
    }
  }
  return out;
}

const projectOf = (file: string) => PROJECTS.find((p) => file.startsWith(`test/${p}/`));

function runVitest(args: string[], reportPath: string): number {
  rmSync(reportPath, { force: true });
  const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(
    process.execPath,
    [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`, ...args],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  return run.status ?? 1;
}

function main() {
  const args = process.argv.slice(2);
  const outDir = join(ROOT, 'test-output');
  mkdirSync(outDir, { recursive: true });
  const reportPath = join(outDir, 'vitest-report.json');
  const status = runVitest(args, reportPath);
  let report: JsonReport;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8')) as JsonReport;
  } catch {
    console.error(`vitest wrote no report (${reportPath}); exit status ${status}`);
    process.exit(status || 1);
  }
  if (args.length > 0) {
    printCounts(report);
    process.exit(status);
  }

  const inTree = new Set(testFilesIn(ROOT));
  const ran = new Set(report.testResults.map((r) => relative(ROOT, r.name).split(sep).join('/')));
  const problems: string[] = [];

  for (const file of inTree) {
    if (!projectOf(file)) problems.push(`${file} is outside every project's folder (test/{${PROJECTS.join(',')}}/): no suite collects it`);
    else if (!ran.has(file)) problems.push(`${file} is in the tree but the runner did not run it`);
  }
  for (const file of ran) if (!inTree.has(file)) problems.push(`${file} was run but is not a test file in the tree`);
  for (const result of report.testResults) {
    if (result.assertionResults.length === 0) problems.push(`${relative(ROOT, result.name)} ran no test`);
  }

  console.log('\ntest files per suite (in the tree / run):');
  for (const project of PROJECTS) {
    const tree = [...inTree].filter((f) => projectOf(f) === project).length;
    const run = [...ran].filter((f) => projectOf(f) === project).length;
    console.log(`  ${project.padEnd(8)} ${String(tree).padStart(3)} / ${String(run).padStart(3)}`);
    if (run === 0) problems.push(`suite ${project} ran no file`);
  }
  console.log(`  ${'all'.padEnd(8)} ${String(inTree.size).padStart(3)} / ${String(ran.size).padStart(3)}`);

  printCounts(report);
  if (problems.length > 0) {
    console.error(`\nThe run does not cover the tree:\n  - ${problems.join('\n  - ')}`);
    process.exit(1);
  }
  process.exit(status);
}

function printCounts(report: JsonReport) {
  const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
}

main();
