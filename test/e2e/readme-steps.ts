// Reads README.md's shell blocks the way a person following it does: commands (continuation lines
// and quoted newlines joined), each with its trailing comment, and the conventions the README
// states for those comments (`# keeps running`, `# → label: { field, field: value }`,
// `(repeat until)`). Used by readme.test.ts and demo.test.ts, so the README cannot drift from them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/local-stack.ts';

export interface Step {
  /** The command as written, comment removed. */
  command: string;
  comment: string;
  keepsRunning: boolean;
  /** `# → label: { … }`: the answer is a JSON object with these fields (and values, where given). */
  expect?: { label?: string; fields: { name: string; value?: unknown }[] };
  repeatUntil: boolean;
}

export function readme(): string {
  return readFileSync(join(repoRoot, 'README.md'), 'utf8');
}

/** The text of the `## ` section whose heading starts with `heading`. */
export function section(markdown: string, heading: string): string {
  const start = markdown.split('\n').findIndex((line) => line.startsWith(`## ${heading}`));
  if (start < 0) throw new Error(`README.md has no section "## ${heading}…"`);
  const lines = markdown.split('\n').slice(start + 1);
  const end = lines.findIndex((line) => line.startsWith('## '));
  return lines.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The contents of the ```sh blocks, in order. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Splits a block into commands as bash would: `\` + newline continues, newlines in quotes stay. */
export function stepsOf(block: string): Step[] {
  const steps: Step[] = [];
  let command = '';
  let comment = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < block.length; i++) {
    const ch = block[i]!;
    if (quote) {
      command += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      command += ch;
    } else if (ch === '\\' && block[i + 1] === '\n') {
      command += ' ';
      i++;
    } else if (ch === '#' && (command === '' || /\s$/.test(command))) {
      const end = block.indexOf('\n', i);
      comment = block.slice(i + 1, end < 0 ? undefined : end).trim();
      i = (end < 0 ? block.length : end) - 1;
    } else if (ch === '\n') {
      if (command.trim()) steps.push(step(command, comment));
      command = '';
      comment = '';
    } else {
      command += ch;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in README block:\n${block}`);
  if (command.trim()) steps.push(step(command, comment));
  return steps;
}

function step(raw: string, comment: string): Step {
  const command = raw.trim();
  const arrow = /^→\s*(?:([a-z]+):\s*)?\{([^}]*)\}/.exec(comment);
  return {
    command,
    comment,
    keepsRunning: /^keeps running\b/.test(comment),
    repeatUntil: /\(repeat until\)/.test(comment),
    expect: arrow ? { label: arrow[1], fields: fieldsOf(arrow[2]!) } : undefined,
  };
}

function fieldsOf(inner: string): { name: string; value?: unknown }[] {
  return inner
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const colon = part.indexOf(':');
      if (colon < 0) return { name: part };
      return { name: part.slice(0, colon).trim(), value: JSON.parse(part.slice(colon + 1).trim()) as unknown };
    });
}

/** Why an answer does not match its `# →` comment, or undefined when it does. */
export function mismatch(answer: unknown, expect: NonNullable<Step['expect']>): string | undefined {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return 'the answer is not a JSON object';
  const record = answer as Record<string, unknown>;
  if ('error' in record) return `the answer is an error: ${JSON.stringify(record.error)}`;
  for (const field of expect.fields) {
    if (!(field.name in record)) return `no field ${field.name}`;
    if ('value' in field && JSON.stringify(record[field.name]) !== JSON.stringify(field.value)) {
      return `${field.name} is ${JSON.stringify(record[field.name])}, not ${JSON.stringify(field.value)}`;
    }
  }
  return undefined;
}
