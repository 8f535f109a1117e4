import type { CommandSpec, OptionSpec, OptionValue } from '../core/command.ts';

// Pure: `/name a b c` against a shared command spec. Sub-commands come first (`/proposal show 12`),
// then options in their declared order. Discord gives every option its own field; a Telegram
// message is one text, so:
// - `name=value` (or `name="a few words"`) sets any option of the command, anywhere in the line:
//   the options a sentence leaves no room for (`/proposal create grant Pay the writers amount=1500`);
// - "quoted words" (straight or curly quotes) are one value (`/stake "my rig" 50`);
// - a sentence option (free text of up to a hundred characters or more: a title, a description)
//   takes the rest of its line, and the last one the following lines too, so
//   `/proposal create text Fund the Lagos meetup` keeps its spaces and a description fits below;
// - the last string option takes the rest of the line (`/status my rig`).

export type ParsedArgs = { ok: true; path: string[]; options: Record<string, OptionValue | undefined> } | { ok: false; message: string };

export function parseCommandArgs(spec: CommandSpec, text: string): ParsedArgs {
  const path = [spec.name];
  let leaf = spec;
  let rest = text.trim();
  while (leaf.subcommands?.length) {
    const match = /^(\S*)[^\S\n]*(.*)$/s.exec(rest);
    const sub = leaf.subcommands.find((s) => s.name === (match?.[1] ?? '').toLowerCase());
    if (!sub) return { ok: false, message: `Use /${path.join(' ')} ${leaf.subcommands.map((s) => s.name).join('|')} …` };
    path.push(sub.name);
    leaf = sub;
    rest = match?.[2] ?? '';
  }
  const options: Record<string, OptionValue | undefined> = {};
  const specs = leaf.options ?? [];
  const raw: Record<string, string> = {};
  rest = rest.replace(NAMED, (whole, lead: string, name: string, ...values: (string | undefined)[]) => {
    const opt = specs.find((o) => o.name === name.toLowerCase());
    if (!opt) return whole;
    raw[opt.name] = values.slice(0, 3).find((v) => v !== undefined) ?? '';
    return lead;
  });
  const positional = specs.filter((o) => raw[o.name] === undefined);
  const lastProse = positional.filter(isProse).at(-1);
  for (let i = 0; i < positional.length; i++) {
    const opt = positional[i]!;
    const isLast = i === positional.length - 1;
    rest = rest.trimStart();
    const quoted = QUOTED.exec(rest);
    let word: string;
    if (quoted) {
      word = quoted[1] ?? quoted[2] ?? '';
      rest = rest.slice(quoted[0].length);
    } else if (opt === lastProse || (isLast && opt.type === 'string')) {
      word = tidy(rest);
      rest = '';
    } else if (isProse(opt)) {
      const end = rest.indexOf('\n');
      word = tidy(end === -1 ? rest : rest.slice(0, end));
      rest = end === -1 ? '' : rest.slice(end);
    } else {
      const match = /^(\S+)(.*)$/s.exec(rest);
      word = match?.[1] ?? '';
      rest = match?.[2] ?? '';
    }
    if (word !== '') raw[opt.name] = word;
  }
  for (const opt of specs) {
    const word = raw[opt.name];
    if (word === undefined || word === '') {
      if (opt.required) return { ok: false, message: `Usage: ${usage(path, leaf)}` };
      continue;
    }
    const value = coerce(opt.type, word);
    if (value === undefined)
      return {
        ok: false,
        message: `${opt.name} must be ${opt.type === 'boolean' ? 'yes or no' : `a ${opt.type}`}. Usage: ${usage(path, leaf)}`,
      };
    if (opt.choices && !opt.choices.some((c) => c.value === String(value))) {
      return { ok: false, message: `${opt.name} is one of: ${opt.choices.map((c) => c.value).join(', ')}.` };
    }
    options[opt.name] = value;
  }
  return { ok: true, path, options };
}

/** `name=value`, `name="a few words"` or `name=“a few words”`, after a space or at the start. */
const NAMED = /(^|\s)([A-Za-z_]+)=(?:"([^"\n]*)"|“([^”\n]*)”|(\S+))/g;
const QUOTED = /^(?:"([^"\n]*)"|“([^”\n]*)”)/;

/** Free text a person writes as a sentence: a title, a description (not a name, an id or an amount). */
function isProse(opt: OptionSpec): boolean {
  return opt.type === 'string' && !opt.choices && !opt.autocomplete && (opt.maxLength ?? 0) >= 100;
}

/** Spaces inside a line as one (named options taken out of it leave gaps), lines kept. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[^\S\n]+/g, ' ').trim())
    .join('\n')
    .trim();
}

export function usage(path: string[], spec: CommandSpec): string {
  const specs = spec.options ?? [];
  const proses = specs.filter(isProse);
  const last = proses.at(-1);
  const afterText = last ? specs.indexOf(last) : specs.length;
  const opts = specs.map((o, i) => {
    if (i > afterText) return `[${o.name}=…]`;
    if (o === last && proses.length > 1) return `[${o.name} on the next lines]`;
    const name = isProse(o) ? `${o.name}…` : o.name;
    return o.required ? `<${name}>` : `[${name}]`;
  });
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
