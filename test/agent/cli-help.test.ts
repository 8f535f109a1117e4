// Every flag has a line of help: `gridplane-agent <command> --help` lists each flag the command
// accepts (its own and the common ones) with a description, and the top-level help lists every
// command.
import { describe, expect, it } from 'vitest';
import { COMMANDS, COMMON_FLAGS, main } from '../../edge-agent/src/cli.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('help', () => {
  it('lists every command', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const [name, command] of Object.entries(COMMANDS)) expect(out).toContain(`  ${name.padEnd(9)} ${command.summary}`);
  });

  for (const [name, command] of Object.entries(COMMANDS)) {
    it(`${name} --help has one line for each of its flags`, async () => {
      const { code, out, err } = await run([name, '--help']);
      expect(err).toBe('');
      expect(code).toBe(0);
      const flags = { ...command.flags, ...COMMON_FLAGS };
      expect(Object.keys(flags).length).toBeGreaterThanOrEqual(3);
      for (const [flag, def] of Object.entries(flags)) {
        expect(def.help.trim().length, `--${flag} of ${name}`).toBeGreaterThan(10);
        const line = new RegExp(
          `^  (-${def.short ?? '.'}, )?--${escapeRegex(flag)}${def.value ? ` ${escapeRegex(def.value)}` : ''} +${escapeRegex(def.help)}$`,
          'm',
        );
        expect(out, `--${flag} of ${name}`).toMatch(line);
      }
      // Nothing in the help that the parser would refuse.
      const listed = [...out.matchAll(/^ {2}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]);
      expect(listed.sort()).toEqual(Object.keys(flags).sort());
    });
  }
});
