import {
  SlashCommandBuilder,
  type SlashCommandSubcommandBuilder,
  type SlashCommandBooleanOption,
  type SlashCommandIntegerOption,
  type SlashCommandNumberOption,
  type SlashCommandStringOption,
} from '@discordjs/builders';
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { COMMANDS } from '../core/commands/index.ts';
import type { CommandSpec, OptionSpec } from '../core/command.ts';

// The slash-command definitions Discord shows, built from the shared command specs: the one
// module both the interactions router (for names and options) and `npm run discord:register`
// use, so what is registered is exactly what is routed.

/** What SlashCommandBuilder and SlashCommandSubcommandBuilder share for adding options. */
interface OptionHost {
  addStringOption(f: (b: SlashCommandStringOption) => SlashCommandStringOption): unknown;
  addIntegerOption(f: (b: SlashCommandIntegerOption) => SlashCommandIntegerOption): unknown;
  addNumberOption(f: (b: SlashCommandNumberOption) => SlashCommandNumberOption): unknown;
  addBooleanOption(f: (b: SlashCommandBooleanOption) => SlashCommandBooleanOption): unknown;
}

function addOptions(host: OptionHost, options: readonly OptionSpec[] = []): void {
  // Discord wants required options first.
  const sorted = [...options].sort((a, b) => Number(b.required ?? false) - Number(a.required ?? false));
  for (const o of sorted) {
    const base = <T extends { setName(n: string): T; setDescription(d: string): T; setRequired(r: boolean): T }>(b: T) =>
      b
        .setName(o.name)
        .setDescription(o.description.slice(0, 100))
        .setRequired(o.required ?? false);
    switch (o.type) {
      case 'string':
        host.addStringOption((b: SlashCommandStringOption) => {
          base(b);
          if (o.maxLength) b.setMaxLength(o.maxLength);
          if (o.choices) b.addChoices(...o.choices.map((c) => ({ name: c.name, value: c.value })));
          else if (o.autocomplete) b.setAutocomplete(true);
          return b;
        });
        break;
      case 'integer':
        host.addIntegerOption((b: SlashCommandIntegerOption) => {
          base(b);
          if (o.min !== undefined) b.setMinValue(o.min);
          if (o.max !== undefined) b.setMaxValue(o.max);
          return b;
        });
        break;
      case 'number':
        host.addNumberOption((b: SlashCommandNumberOption) => {
          base(b);
          if (o.min !== undefined) b.setMinValue(o.min);
          if (o.max !== undefined) b.setMaxValue(o.max);
          return b;
        });
        break;
      case 'boolean':
        host.addBooleanOption((b) => base(b));
        break;
    }
  }
}

function definition(spec: CommandSpec): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const builder = new SlashCommandBuilder().setName(spec.name).setDescription(spec.description.slice(0, 100));
  // Hidden from everyone but guild admins by default; the router still checks our own allowlist,
  // because guild admins can grant the command to anyone.
  if (spec.admin) builder.setDefaultMemberPermissions(0);
  if (spec.subcommands) {
    for (const sub of spec.subcommands) {
      builder.addSubcommand((s: SlashCommandSubcommandBuilder) => {
        s.setName(sub.name).setDescription(sub.description.slice(0, 100));
        addOptions(s, sub.options);
        return s;
      });
    }
  } else {
    addOptions(builder, spec.options);
  }
  return builder.toJSON();
}

export function discordCommandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return COMMANDS.map(definition);
}
