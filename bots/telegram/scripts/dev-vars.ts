import { existsSync, readFileSync } from 'node:fs';

/** process.env, filled in from .dev.vars where unset, so the scripts see what `npm start` sees. */
export function devVars(path = '.dev.vars'): Record<string, string | undefined> {
  const vars: Record<string, string | undefined> = {};
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const match = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
      if (match && !line.trimStart().startsWith('#')) vars[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
    }
  }
  return { ...vars, ...process.env };
}
