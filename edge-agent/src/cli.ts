// Option wiring only: parse flags with node:util parseArgs, turn them into typed inputs, dispatch
// to the command's action in commands/. Actions never see raw flags.
import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_CONTROL_PLANE_URL, DEFAULT_NVIDIA_SMI_PATH, HOME_ENV, resolveHome } from './config.ts';
import { AgentError } from './errors.ts';
import { initCommand } from './commands/init.ts';
import { processIo, type CommandIo } from './commands/io.ts';
import { registerCommand } from './commands/register.ts';
import { runCommand } from './commands/run.ts';
import { statusCommand } from './commands/status.ts';
import { knownSimulatedModels } from './simulate.ts';
import { AGENT_VERSION } from './version.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  usage: string;
  options: Options;
  action(values: Values, io: CommandIo): Promise<number>;
}

const COMMON: Options = {
  home: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const OVERRIDES: Options = {
  url: { type: 'string' },
  'simulate-gpus': { type: 'string' },
};

const COMMANDS: Record<string, Command> = {
  init: {
    summary: 'create the device key and the config file',
    usage: `init --owner ADDRESS --lat N --lon N --country CC --price-per-gpu-hour DECIMAL
       [--name NAME] [--url URL] [--simulate-gpus "RTX 4090x2"] [--nvidia-smi PATH] [--job-network NAME] [--force]`,
    options: {
      url: { type: 'string' },
      name: { type: 'string' },
      owner: { type: 'string' },
      lat: { type: 'string' },
      lon: { type: 'string' },
      country: { type: 'string' },
      'price-per-gpu-hour': { type: 'string' },
      'simulate-gpus': { type: 'string' },
      'nvidia-smi': { type: 'string' },
      'job-network': { type: 'string' },
      force: { type: 'boolean', default: false },
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
    options: OVERRIDES,
    action: (v, io) =>
      registerCommand(
        { home: resolveHome(str(v, 'home')), overrides: overrides(v), json: v.json === true },
        io,
      ),
  },
  run: {
    summary: 'run the daemon: register if needed, then send heartbeats until SIGINT/SIGTERM',
    usage: 'run [--url URL] [--simulate-gpus SPEC] [--interval-ms N]',
    options: { ...OVERRIDES, 'interval-ms': { type: 'string' } },
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
    options: {},
    action: (v, io) => statusCommand({ home: resolveHome(str(v, 'home')), json: v.json === true }, io),
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
  const command = COMMANDS[name];
  if (!command) {
    io.err(`gridplane-agent: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, strict: true, allowPositionals: false }).values as Values;
  } catch (err) {
    io.err(`gridplane-agent ${name}: ${(err as Error).message}\nusage: gridplane-agent ${command.usage}`);
    return 2;
  }
  if (values.help) {
    io.out(`gridplane-agent ${command.usage}\n\n${command.summary}\n\ncommon options: --home DIR (default $${HOME_ENV} or ~/.gridplane-agent), --json`);
    return 0;
  }
  try {
    return await command.action(values, io);
  } catch (err) {
    if (err instanceof AgentError) {
      io.err(`gridplane-agent ${name}: ${err.message} [${err.code}]`);
      return 1;
    }
    throw err;
  }
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return [
    `gridplane-agent ${AGENT_VERSION} — edge agent for the gridplane GPU network`,
    '',
    'usage: gridplane-agent <command> [options]',
    '',
    ...lines,
    '',
    `common options: --home DIR (default $${HOME_ENV} or ~/.gridplane-agent), --json, --help`,
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
  const name = hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return name || 'gpu-node';
}
