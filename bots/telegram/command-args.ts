import type { CommandSpec, OptionValue } from '../core/command.ts';

// Pure: `/name a b c` against a shared command spec. Sub-commands come first (`/proposal show 12`),
// then options in their declared order; the last string option takes the rest of the line, so
// `/propose text Fund the Lagos meetup` keeps its spaces.

export type ParsedArgs =
  | { ok: true; path: string[]; options: Record<string, OptionValue | undefined> }
  | { ok: false; message: string };

export function parseCommandArgs(spec: CommandSpec, text: string): ParsedArgs {
  const path = [spec.name];
  let leaf = spec;
  let rest = text.trim();
  while (leaf.subcommands?.length) {
    const [word = '', ...more] = rest.split(/\s+/);
    const sub = leaf.subcommands.find((s) => s.name === word.toLowerCase());
    if (!sub) return { ok: false, message: `Use /${path.join(' ')} ${leaf.subcommands.map((s) => s.name).join('|')} …` };
    path.push(sub.name);
    leaf = sub;
    rest = more.join(' ');
  }
  const options: Record<string, OptionValue | undefined> = {};
  const specs = leaf.options ?? [];
  for (let i = 0; i < specs.length; i++) {
    const opt = specs[i]!;
    rest = rest.trim();
    const isLast = i === specs.length - 1;
    let word: string;
    if (isLast && opt.type === 'string') {
      word = rest;
      rest = '';
    } else {
      const match = /^(\S+)\s*(.*)$/s.exec(rest);
      word = match?.[1] ?? '';
      rest = match?.[2] ?? '';
    }
    if (word === '') {
      if (opt.required) return { ok: false, message: `Usage: ${usage(path, leaf)}` };
      continue;
    }
    const value = coerce(opt.type, word);
    if (value === undefined) return { ok: false, message: `${opt.name} must be ${opt.type === 'boolean' ? 'yes or no' : `a ${opt.type}`}. Usage: ${usage(path, leaf)}` };
    if (opt.choices && !opt.choices.some((c) => c.value === String(value))) {
      return { ok: false, message: `${opt.name} is one of: ${opt.choices.map((c) => c.value).join(', ')}.` };
    }
    options[opt.name] = value;
  }
  return { ok: true, path, options };
}

export function usage(path: string[], spec: CommandSpec): string {
  const opts = (spec.options ?? []).map((o) => (o.required ? `<${o.name}>` : `[${o.name}]`));
  return [`/${path.join(' ')}`, ...opts].join(' ');
}

function coerce(type: 'string' | 'integer' | 'number' | 'boolean', word: string): OptionValue | undefined {
  switch (type) {
    case 'string':
      return word;
    case 'integer':
      return /^-?\d{1,15}$/.test(word) ? Number(word) : undefined;
    case 'number':
      return Number.isFinite(Number(word)) ? Number(word) : undefined;
    case 'boolean':
      return /^(yes|true|on|1)$/i.test(word) ? true : /^(no|false|off|0)$/i.test(word) ? false : undefined;
  }
}
