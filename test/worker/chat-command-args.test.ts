import { describe, expect, it } from 'vitest';
import { parseCommandArgs, usage } from '../../bots/telegram/command-args.ts';
import { COMMANDS } from '../../bots/core/commands/index.ts';
import type { CommandSpec } from '../../bots/core/command.ts';

// Telegram's `/name args` against the shared specs: what a person types in one message.

const spec = (name: string) => COMMANDS.find((c) => c.name === name) as CommandSpec;

describe('parseCommandArgs', () => {
  it('/proposal create takes a title of many words, the description from the next lines', () => {
    const parsed = parseCommandArgs(spec('proposal'), 'create text Fund the Lagos meetup\nVenue, food and a projector.\nSecond line.');
    expect(parsed).toEqual({
      ok: true,
      path: ['proposal', 'create'],
      options: { kind: 'text', title: 'Fund the Lagos meetup', description: 'Venue, food and a projector.\nSecond line.' },
    });
  });

  it('a grant names its recipient and amount as name=value, anywhere in the line', () => {
    const parsed = parseCommandArgs(spec('proposal'), 'create grant Pay the docs writers recipient=acc_123 amount=1500.5');
    expect(parsed).toEqual({
      ok: true,
      path: ['proposal', 'create'],
      options: { kind: 'grant', title: 'Pay the docs writers', recipient: 'acc_123', amount: '1500.5' },
    });
    const param = parseCommandArgs(spec('proposal'), 'create param param=min_stake_per_gpu value=250 Raise the stake floor');
    expect(param.ok && param.options).toEqual({ kind: 'param', title: 'Raise the stake floor', param: 'min_stake_per_gpu', value: '250' });
  });

  it('quotes keep words together, straight or curly', () => {
    const parsed = parseCommandArgs(spec('proposal'), 'create text “Fund the meetup” description="Two words"');
    expect(parsed.ok && parsed.options).toEqual({ kind: 'text', title: 'Fund the meetup', description: 'Two words' });
  });

  it('a node name with spaces and an amount: /stake my rig 50 is not a name "my rig 50"', () => {
    expect(parseCommandArgs(spec('stake'), 'rig 50')).toEqual({ ok: true, path: ['stake'], options: { node: 'rig', amount: '50' } });
    expect(parseCommandArgs(spec('stake'), '"my rig" 50')).toEqual({
      ok: true,
      path: ['stake'],
      options: { node: 'my rig', amount: '50' },
    });
    expect(parseCommandArgs(spec('status'), 'my rig')).toEqual({ ok: true, path: ['status'], options: { node: 'my rig' } });
  });

  it('still refuses what it cannot read, with the usage', () => {
    expect(parseCommandArgs(spec('proposal'), 'create')).toEqual({
      ok: false,
      message: `Usage: ${usage(['proposal', 'create'], spec('proposal').subcommands![0]!)}`,
    });
    expect(usage(['proposal', 'create'], spec('proposal').subcommands![0]!)).toBe(
      '/proposal create <kind> <title…> [description on the next lines] [recipient=…] [amount=…] [param=…] [value=…]',
    );
    expect(parseCommandArgs(spec('proposal'), 'create poem Hello')).toEqual({ ok: false, message: 'kind is one of: grant, param, text.' });
    expect(parseCommandArgs(spec('rent'), 'RTX4090 two 1 eu-west')).toMatchObject({ ok: false });
  });
});
