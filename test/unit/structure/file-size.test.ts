import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Small files (issue 13, CONTRIBUTING.md "File size"): no source or test file is over 300 lines
// unless it says why at its top, in a comment starting `Over 300 lines:` within its first 5
// lines. Generated files are exempt.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAX_LINES = 300;
const GENERATED = [/^edge-agent\/dist\//, /^worker-configuration\.d\.ts$/, /^workers\/env\.generated\.d\.ts$/, /^db\/migrations\//];
const REASON = /^\s*(\/\/|\*|\/\*\*?)\s*Over 300 lines:\s*\S/;

export function oversized(files: { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { path, text } of files) {
    if (GENERATED.some((re) => re.test(path))) continue;
    const lines = text.split('\n');
    const count = text.endsWith('\n') ? lines.length - 1 : lines.length;
    if (count <= MAX_LINES) continue;
    if (lines.slice(0, 5).some((l) => REASON.test(l))) continue;
    out.push(`${path}: ${count} lines, and no "Over 300 lines: <why>" comment in its first 5 lines`);
  }
  return out;
}

function trackedSources(): { path: string; text: string }[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs', '*.js'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter(Boolean)
    .map((path) => {
      try {
        return { path, text: readFileSync(ROOT + path, 'utf8') };
      } catch {
        return null; // listed but deleted in the working tree
      }
    })
    .filter((f): f is { path: string; text: string } => f !== null);
}

describe('file size', () => {
  it('catches a long file without a reason and lets one with a reason or a generated one pass', () => {
    const long = 'x\n'.repeat(MAX_LINES + 1);
    expect(oversized([{ path: 'workers/a.ts', text: long }])).toHaveLength(1);
    expect(oversized([{ path: 'workers/a.ts', text: 'x\n'.repeat(MAX_LINES) }])).toEqual([]);
    expect(oversized([{ path: 'workers/a.ts', text: `// Over 300 lines: one table of routes.\n${long}` }])).toEqual([]);
    expect(oversized([{ path: 'worker-configuration.d.ts', text: long }])).toEqual([]);
  });

  it(`no file in the tree is over ${MAX_LINES} lines without saying why at its top`, () => {
    expect(oversized(trackedSources())).toEqual([]);
  });
});
