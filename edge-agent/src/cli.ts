// Over 300 lines: one table of flags with their help lines, the agent's whole CLI surface in one place; the actions are in commands/.
// Option wiring only: parse flags with node:util parseArgs, turn them into typed inputs, dispatch
// to the command's action in commands/. Actions never see raw flags.
import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_CONTROL_PLANE_URL, DEFAULT_NVIDIA_SMI_PATH, HOME_ENV, resolveHome } from './config.ts';
import { AgentError } from './errors.ts';
import { doctorCommand } from './commands/doctor.ts';
import { initCommand } from './commands/init.ts';
import { processIo, type CommandIo } from './commands/io.ts';
import { registerCommand } from './commands/register.ts';
import { runCommand } from './commands/run.ts';
import { serviceInstallCommand } from './commands/service.ts';
import { statusCommand } from './commands/status.ts';
import { knownSimulatedModels } from './simulate.ts';
import { AGENT_VERSION } from './version.ts';

type Values = Record<string, string | boolean | undefined>;

/** A flag: what parseArgs needs, plus the one line of help every flag has. */
export interface Flag {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** The value's placeholder in help, e.g. DIR. */
  value?: string;
  help: string;
}
type Flags = Record<string, Flag>;

export interface Command {
  summary: string;
  usage: string;
  flags: Flags;
  /** Words after the command (`service install`); none unless listed. */
  positionals?: string[];
  action(values: Values, io: CommandIo, positionals: string[]): Promise<number>;
}

export const COMMON_FLAGS: Flags = {
  home: { type: 'string', value: 'DIR', help: `the agent's home (key and config); default $${HOME_ENV}, else ~/.gridplane-agent` },
  json: { type: 'boolean', default: false, help: 'machine-readable output, one JSON object per line' },
  help: { type: 'boolean', short: 'h', default: false, help: 'print this help' },
};

const OVERRIDES: Flags = {
  url: { type: 'string', value: 'URL', help: "use this control-plane URL instead of config.json's, for this run" },
  'simulate-gpus': {
    type: 'string',
    value: 'SPEC',
    help: 'declare GPUs instead of reading nvidia-smi, for this run (development only), e.g. "RTX 4090x2"',
  },
};

export const COMMANDS: Record<string, Command> = {
  init: {
    summary: 'create the device key and the config file',
    usage: `init --owner ADDRESS --lat N --lon N --country CC --price-per-gpu-hour DECIMAL
       [--name NAME] [--url URL] [--simulate-gpus "RTX 4090x2"] [--nvidia-smi PATH] [--job-network NAME] [--force]`,
    flags: {
      owner: { type: 'string', value: 'ADDRESS', help: "the owner's Solana wallet (base58), where rewards go (required)" },
      lat: { type: 'string', value: 'N', help: 'latitude in degrees (required); negative values need =, e.g. --lat=-33.9' },
      lon: { type: 'string', value: 'N', help: 'longitude in degrees (required); negative values need =, e.g. --lon=-122.42' },
      country: { type: 'string', value: 'CC', help: 'ISO 3166-1 alpha-2 country code, e.g. JP (required)' },
      'price-per-gpu-hour': {
        type: 'string',
        value: 'DECIMAL',
        help: 'price per GPU-hour in whole tokens as a decimal string, e.g. 1.250000 (required)',
      },
      name: { type: 'string', value: 'NAME', help: 'node name (letters, digits, . _ -); default: the host name' },
      url: {
        type: 'string',
        value: 'URL',
        help: `control-plane URL, https:// (http:// only to this machine); default ${DEFAULT_CONTROL_PLANE_URL}`,
      },
      'simulate-gpus': {
        type: 'string',
        value: 'SPEC',
        help: 'declare GPUs instead of reading nvidia-smi (development only), MODELxCOUNT,…: "RTX 4090x2"',
      },
      'nvidia-smi': { type: 'string', value: 'PATH', help: `the nvidia-smi executable; default ${DEFAULT_NVIDIA_SMI_PATH} on PATH` },
      'job-network': {
        type: 'string',
        value: 'NAME',
        help: 'docker network for job containers; default gridplane-jobs (created by the agent); none for no network',
      },
      force: { type: 'boolean', default: false, help: 'overwrite an existing config.json (the device key is always kept)' },
    },
    action: (v, io) =>
      initCommand(
        {
          home: resolveHome(str(v, 'home')),
          force: v.force === true,
          json: v.json === true,
          config: {
            controlPlaneUrl: str(v, 'url') ?? DEFAULT_CONTROL_PLANE_URL,
            nodeName: str(v, 'name') ?? defaultNodeName(),
            owner: required(v, 'owner'),
            location: {
              lat: num(required(v, 'lat'), 'lat'),
              lon: num(required(v, 'lon'), 'lon'),
              country: required(v, 'country').toUpperCase(),
            },
            pricePerGpuHour: required(v, 'price-per-gpu-hour'),
            simulateGpus: str(v, 'simulate-gpus') ?? null,
            nvidiaSmiPath: str(v, 'nvidia-smi') ?? DEFAULT_NVIDIA_SMI_PATH,
            jobNetwork: str(v, 'job-network'),
          },
        },
        io,
      ),
  },
  register: {
    summary: 'register this node (or update its details) with the control plane',
    usage: 'register [--url URL] [--simulate-gpus SPEC]',
    flags: OVERRIDES,
    action: (v, io) => registerCommand({ home: resolveHome(str(v, 'home')), overrides: overrides(v), json: v.json === true }, io),
  },
  run: {
    summary: 'run the daemon: register if needed, then send heartbeats until SIGINT/SIGTERM',
    usage: 'run [--url URL] [--simulate-gpus SPEC] [--interval-ms N]',
    flags: {
      ...OVERRIDES,
      'interval-ms': {
        type: 'string',
        value: 'N',
        help: "a fixed heartbeat interval in ms instead of the control plane's (tests, debugging)",
      },
    },
    action: (v) => {
      const interval = str(v, 'interval-ms');
      return runCommand({
        home: resolveHome(str(v, 'home')),
        overrides: overrides(v),
        intervalMs: interval === undefined ? undefined : positiveInt(interval, 'interval-ms'),
        json: v.json === true,
      });
    },
  },
  status: {
    summary: "print this node's id and config and ask the control plane for its status",
    usage: 'status',
    flags: {},
    action: (v, io) => statusCommand({ home: resolveHome(str(v, 'home')), json: v.json === true }, io),
  },
  doctor: {
    summary:
      'check this host and node (driver, Docker, NVIDIA toolkit, clock, key, registration, eligibility) and say how to fix each problem',
    usage: 'doctor [--url URL]',
    flags: { url: OVERRIDES.url! },
    action: (v, io) =>
      doctorCommand({ home: resolveHome(str(v, 'home')), overrides: { controlPlaneUrl: str(v, 'url') }, json: v.json === true }, io),
  },
  service: {
    summary: 'install the systemd unit that runs this agent (logs: journalctl -u gridplane-agent)',
    usage: 'service install [--user] [--run-as USER] [--dry-run] [--enable] [--unit-dir DIR]',
    positionals: ['install'],
    flags: {
      user: {
        type: 'boolean',
        default: false,
        help: 'a user unit (~/.config/systemd/user, runs as you, WantedBy=default.target) instead of a system unit',
      },
      'run-as': {
        type: 'string',
        value: 'USER',
        help: 'the account a system unit runs as (in the docker group, owning the home); default: the user who ran sudo, else you; never root',
      },
      'dry-run': { type: 'boolean', default: false, help: 'print the unit and where it would go; write nothing' },
      enable: {
        type: 'boolean',
        default: false,
        help: 'after writing it: systemctl daemon-reload, then systemctl enable --now gridplane-agent',
      },
      'unit-dir': {
        type: 'string',
        value: 'DIR',
        help: 'write the unit here instead of /etc/systemd/system (or ~/.config/systemd/user with --user)',
      },
    },
    action: (v, io) =>
      serviceInstallCommand(
        {
          home: resolveHome(str(v, 'home')),
          homeChosen: str(v, 'home') !== undefined || Boolean(process.env[HOME_ENV]),
          scope: v.user === true ? 'user' : 'system',
          dryRun: v['dry-run'] === true,
          enable: v.enable === true,
          runAs: str(v, 'run-as'),
          unitDir: str(v, 'unit-dir'),
          json: v.json === true,
        },
        io,
      ),
  },
};

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    io.out(AGENT_VERSION);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`gridplane-agent: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: parseArgsOptions({ ...COMMON_FLAGS, ...command.flags }),
      strict: true,
      allowPositionals: command.positionals !== undefined,
    });
    values = parsed.values as Values;
    positionals = parsed.positionals;
  } catch (err) {
    io.err(`gridplane-agent ${name}: ${(err as Error).message}\nusage: gridplane-agent ${command.usage}`);
    return 2;
  }
  if (values.help) {
    io.out(commandHelp(name, command));
    return 0;
  }
  if (command.positionals && (positionals.length !== 1 || !command.positionals.includes(positionals[0]!))) {
    io.err(
      `gridplane-agent ${name}: expected ${command.positionals.join(' or ')}${positionals.length ? `, got "${positionals.join(' ')}"` : ''}\nusage: gridplane-agent ${command.usage}`,
    );
    return 2;
  }
  try {
    return await command.action(values, io, positionals);
  } catch (err) {
    if (err instanceof AgentError) {
      io.err(`gridplane-agent ${name}: ${err.message} [${err.code}]`);
      return 1;
    }
    throw err;
  }
}

function parseArgsOptions(flags: Flags): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(flags).map(([key, f]) => [
      key,
      { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) },
    ]),
  ) as NonNullable<ParseArgsConfig['options']>;
}

function flagLines(flags: Flags): string[] {
  const left = Object.entries(flags).map(([key, f]) => `${f.short ? `-${f.short}, ` : ''}--${key}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(0, ...left.map((l) => l.length));
  return Object.values(flags).map((f, i) => `  ${left[i]!.padEnd(width)}  ${f.help}`);
}

/** `gridplane-agent <command> --help`: the usage, the summary, and one line for every flag. */
export function commandHelp(_name: string, command: Command): string {
  const own = flagLines(command.flags);
  return [
    `usage: gridplane-agent ${command.usage}`,
    '',
    command.summary,
    '',
    ...(own.length ? ['options:', ...own, ''] : []),
    'common options:',
    ...flagLines(COMMON_FLAGS),
  ].join('\n');
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return [
    `gridplane-agent ${AGENT_VERSION} — edge agent for the gridplane GPU network`,
    '',
    'usage: gridplane-agent <command> [options]     (gridplane-agent <command> --help for its options)',
    '',
    ...lines,
    '',
    'common options:',
    ...flagLines(COMMON_FLAGS),
    '',
    `simulated GPU models: ${knownSimulatedModels()}`,
  ].join('\n');
}

function str(v: Values, key: string): string | undefined {
  const value = v[key];
  return typeof value === 'string' ? value : undefined;
}

function required(v: Values, key: string): string {
  const value = str(v, key);
  if (value === undefined || value === '') throw new AgentError('missing_flag', `--${key} is required`);
  return value;
}

function num(text: string, key: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new AgentError('bad_flag', `--${key} must be a number, got "${text}"`);
  return n;
}

function positiveInt(text: string, key: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new AgentError('bad_flag', `--${key} must be a positive whole number, got "${text}"`);
  return Number(text);
}

function overrides(v: Values) {
  return { controlPlaneUrl: str(v, 'url'), simulateGpus: str(v, 'simulate-gpus') };
}

function defaultNodeName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return name || 'gpu-node';
}
