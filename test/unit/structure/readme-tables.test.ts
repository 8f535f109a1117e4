import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The READMEs' tables of files match the tree (issue 13): in every README.md that has a table
// whose first column is headed `file`, each file a row names exists, and each source file beside
// the README (.ts, .mjs, .sh) is named in one. Rows name files relative to the README's folder;
// one cell may name several, separated by commas.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = /\.(ts|mjs|sh)$/;

interface FileTable {
  readme: string;
  named: string[];
}

/** The names in the first column of every table headed `| file |` (or `| files |`). */
export function fileTables(readme: string, text: string): FileTable | null {
  const named: string[] = [];
  let inTable = false;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    const first = line.split('|')[1]?.trim() ?? '';
    if (!inTable && /^files?$/i.test(first)) {
      inTable = true;
      found = true;
      continue;
    }
    if (!inTable || /^:?-+:?$/.test(first)) continue;
    for (const m of first.matchAll(/`([^`]+)`/g)) named.push(m[1]!);
  }
  return found ? { readme, named } : null;
}

export function tableProblems(table: FileTable, files: Set<string>): string[] {
  const dir = dirname(table.readme);
  const problems: string[] = [];
  const namedPaths = new Set<string>();
  for (const name of table.named) {
    if (name.includes('*') || name.includes(' ')) continue; // a pattern or a command, not one file
    const path = normalize(join(dir, name)).replace(/\/$/, '');
    namedPaths.add(path);
    // Only source files and folders are checked for existence: a table may also name what a
    // program writes at run time (the agent's key file, its config). A README may group its
    // subfolders' files under their own headings, so a name may live in a folder below it.
    if (!SOURCE.test(name) && !name.endsWith('/')) continue;
    const bare = name.replace(/\/$/, '');
    const exists =
      files.has(path) ||
      [...files].some((f) => f.startsWith(`${path}/`) || (f.startsWith(`${dir}/`) && (f.endsWith(`/${bare}`) || f.includes(`/${bare}/`))));
    if (!exists) problems.push(`${table.readme}: names \`${name}\`, which is not in the tree`);
  }
  for (const f of files) {
    if (dirname(f) !== dir || !SOURCE.test(f)) continue;
    if (!namedPaths.has(f)) problems.push(`${table.readme}: its file table does not name \`${f.slice(dir.length + 1)}\``);
  }
  return problems;
}

function tree(): Set<string> {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return new Set(
    listed.split('\n').filter((f) => {
      if (!f) return false;
      try {
        readFileSync(ROOT + f);
        return true;
      } catch {
        return false; // deleted in the working tree
      }
    }),
  );
}

describe('README file tables', () => {
  it('catches a named file that is gone and a file nobody named', () => {
    const table = fileTables('w/README.md', '| file | what |\n| --- | --- |\n| `a.ts`, `gone.ts` | x |\n')!;
    expect(tableProblems(table, new Set(['w/README.md', 'w/a.ts', 'w/b.ts']))).toEqual([
      'w/README.md: names `gone.ts`, which is not in the tree',
      'w/README.md: its file table does not name `b.ts`',
    ]);
  });

  it('every README file table matches the tree', () => {
    const files = tree();
    const problems: string[] = [];
    for (const f of files) {
      if (!f.endsWith('README.md') || f.startsWith('node_modules/')) continue;
      const table = fileTables(f, readFileSync(ROOT + f, 'utf8'));
      if (table) problems.push(...tableProblems(table, files));
    }
    expect(problems).toEqual([]);
  });
});
