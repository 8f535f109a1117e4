// `npm run deploy -- --env staging|production`: deploys the control plane to a Cloudflare account,
// a fresh one included. First a preflight (deploy-preflight.ts) prints a numbered "do this first"
// list for whatever is missing (login, the D1 id, the queues, the secrets, the route, the
// environment) and stops; when nothing is, it applies the D1 migrations, deploys, and registers
// the bots' command menus (Discord slash commands; Telegram webhook and menu).
//
//   npm run deploy -- --env staging [--secrets-file .secrets.staging] [--skip-bots]
//   npm run deploy -- --check [--env …] [--config wrangler.toml]   preflight only, asks Cloudflare nothing
//
// Exit status: 0 deployed (or, with --check, nothing to do first), 1 something to do first or a
// step failed, 2 bad arguments.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BOT_MENU_CREDENTIALS,
  deployCommands,
  formatPreflight,
  parseSecretsFile,
  preflight,
  publicOrigin,
  type DeployFacts,
} from './deploy-preflight.ts';
import { readDeployConfig } from './deploy-config.ts';

const root = resolve(import.meta.dirname, '../..');
const spawnEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run deploy -- --env <staging|production> [--secrets-file <file>] [--skip-bots] [--check] [--config <wrangler.toml>]`,
  );
  process.exit(2);
}

let args: { env?: string; check?: boolean; config?: string; 'secrets-file'?: string; 'skip-bots'?: boolean };
try {
  args = parseArgs({
    options: {
      env: { type: 'string', short: 'e' },
      check: { type: 'boolean' },
      config: { type: 'string', short: 'c' },
      'secrets-file': { type: 'string' },
      'skip-bots': { type: 'boolean' },
    },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
const offline = args.check === true;
const configPath = resolve(args.config ?? resolve(root, 'wrangler.toml'));
const secretsFile = args['secrets-file'] ? resolve(args['secrets-file']) : undefined;

function wrangler(argv: string[]): { status: number | null; output: string } {
  const run = spawnSync('wrangler', argv, { cwd: root, env: spawnEnv, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}

/** Asks wrangler; never under --check. */
function authState(): DeployFacts['auth'] {
  if (process.env.CLOUDFLARE_API_TOKEN) return 'api-token';
  if (offline) return 'unknown';
  const run = wrangler(['whoami', '--json']);
  try {
    return (JSON.parse(run.output.slice(run.output.indexOf('{'))) as { loggedIn?: boolean }).loggedIn ? 'logged-in' : 'none';
  } catch {
    return 'unknown';
  }
}

/** The account's queue names, from `wrangler queues list`'s table; undefined when it could not be asked. */
function remoteQueues(wanted: string[]): string[] | undefined {
  const run = wrangler(['queues', 'list']);
  if (run.status !== 0) return undefined;
  return wanted.filter((q) => new RegExp(`(^|[\\s│|])${q.replace(/[-.]/g, '\\$&')}($|[\\s│|])`, 'm').test(run.output));
}

/** Secret names on the environment's Worker; [] when the Worker does not exist yet. */
function remoteSecrets(env: string): string[] | undefined {
  const run = wrangler(['secret', 'list', '--env', env, '--config', configPath, '--format', 'json']);
  if (run.status !== 0) return /does not exist|10007/i.test(run.output) ? [] : undefined;
  try {
    return (JSON.parse(run.output.slice(run.output.indexOf('['))) as { name: string }[]).map((s) => s.name);
  } catch {
    return undefined;
  }
}

let fileSecrets: Record<string, string> = {};
if (secretsFile) {
  try {
    fileSecrets = parseSecretsFile(readFileSync(secretsFile, 'utf8'));
  } catch (error) {
    usage(`--secrets-file ${secretsFile}: ${(error as Error).message}`);
  }
}
const localSecret = (name: string): string | undefined => process.env[name] || fileSecrets[name];

let config: ReturnType<typeof readDeployConfig>;
try {
  config = readDeployConfig(configPath);
} catch (error) {
  usage(`${configPath} could not be read: ${(error as Error).message}`);
}
const envs = config.envs;
const targets = envs.filter((e) => e.name === args.env);
const checked = targets.length > 0 ? targets : envs;
const facts: DeployFacts = {
  requestedEnv: args.env,
  ...config,
  auth: authState(),
  secretsFileNames: secretsFile ? Object.keys(fileSecrets) : undefined,
  localCredentials: BOT_MENU_CREDENTIALS.filter((n) => localSecret(n) !== undefined),
  skipBots: args['skip-bots'] === true,
  remoteQueues: offline ? undefined : remoteQueues(checked.flatMap((e) => e.queues)),
  remoteSecrets: Object.fromEntries(checked.map((e) => [e.name, offline ? undefined : remoteSecrets(e.name)])),
};

const result = preflight(facts);
console.log(formatPreflight(result, offline));
if (result.todo.length > 0) process.exit(1);
if (offline) process.exit(0);

const env = targets[0]!;

/** Runs a command with its output shown and kept (the deploy's output names the workers.dev address). */
function step(title: string, command: string, argv: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  console.log(`\n== ${title}: ${command} ${argv.join(' ')}`);
  return new Promise((resolveStep, reject) => {
    const child = spawn(command, argv, { cwd: root, env: { ...spawnEnv, ...extraEnv }, stdio: ['inherit', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (status) =>
      status === 0 ? resolveStep(output) : reject(new Error(`${title} failed (exit status ${status}); see the output above`)),
    );
  });
}

try {
  const [migrate, deploy] = deployCommands(env.name, { secretsFile, config: args.config ? configPath : undefined });
  await step('D1 migrations', 'wrangler', migrate!);
  const deployed = await step('Deploy', 'wrangler', deploy!);
  if (facts.skipBots) {
    console.log('\nBots skipped (--skip-bots): run `npm run discord:register` and `npm run telegram:webhook -- <public URL>` when ready.');
  } else {
    const credentials = Object.fromEntries(BOT_MENU_CREDENTIALS.map((n) => [n, localSecret(n)!]));
    await step('Discord slash commands', 'tsx', ['bots/discord/register.ts'], credentials);
    const origin = publicOrigin(env, deployed);
    if (!origin)
      throw new Error(
        'the deploy printed no workers.dev address and the environment has no route: run `npm run telegram:webhook -- <public URL>` yourself',
      );
    await step('Telegram webhook and menu', 'tsx', ['bots/telegram/scripts/set-webhook.ts', origin], {
      ...credentials,
      TELEGRAM_API_ROOT: process.env.TELEGRAM_API_ROOT || 'https://api.telegram.org',
    });
  }
  console.log(`\nDeployed ${env.workerName}.`);
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  process.exit(1);
}
