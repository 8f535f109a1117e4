// `npm run deploy` cannot reach Cloudflare here, so its preflight is tested two ways: the real
// script with --check over fixture configs (wrangler's own config reader, the exact text
// printed, the exit status), and the pure preflight over facts a deploy would have gathered
// from Cloudflare (queues and secrets there or not).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDeployConfig } from '../../../workers/scripts/deploy-config.ts';
import {
  deployCommands,
  parseSecretsFile,
  preflight,
  publicOrigin,
  REQUIRED_SECRETS,
  type DeployFacts,
} from '../../../workers/scripts/deploy-preflight.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const fixture = (name: string) => join(ROOT, 'test/unit/deploy/fixtures', name);

/** Runs the script as `npm run deploy -- …` does, with no Cloudflare token and no bot credentials in its environment. */
function deployCheck(args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: mkdtempSync(join(tmpdir(), 'gp-deploy-home-')),
    WRANGLER_SEND_METRICS: 'false',
    ...extraEnv,
  };
  const run = spawnSync(process.execPath, ['workers/scripts/deploy.ts', '--check', ...args], { cwd: ROOT, env, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const D1_STAGING =
  "Create the staging database: `npx wrangler d1 create gridplane-staging`, then put the database_id it prints into wrangler.toml's [[env.staging.d1_databases]] (now the placeholder 00000000-0000-0000-0000-000000000000).";
const D1_PRODUCTION =
  "Create the production database: `npx wrangler d1 create gridplane-production`, then put the database_id it prints into wrangler.toml's [[env.production.d1_databases]] (now the placeholder 00000000-0000-0000-0000-000000000000).";
const ROUTE =
  'Give production a public address: in wrangler.toml under [env.production], uncomment the `routes = [...]` line with your hostname (its zone on this Cloudflare account), or set workers_dev = true.';
const BOTS = (names: string) =>
  `The bots' command menus are registered right after the deploy, from this machine: provide ${names} here (environment or --secrets-file; Cloudflare never hands a secret back), or pass --skip-bots and run \`npm run discord:register\` and \`npm run telegram:webhook -- <url>\` later.`;
const ALL_BOT_NAMES = 'DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN, TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET';
const LOGIN_UNCHECKED = '  - a Cloudflare login: `npx wrangler whoami` (or set CLOUDFLARE_API_TOKEN)';
const ALL_SECRETS = REQUIRED_SECRETS.join(', ');

describe('npm run deploy -- --check', () => {
  it('on a fresh checkout without --env: both databases, the route, the bots, then the choice of environment', () => {
    const run = deployCheck(['--config', fixture('fresh.toml')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      [
        'Before deploying staging and production, do this first:',
        `  1. ${D1_STAGING}`,
        `  2. ${D1_PRODUCTION}`,
        `  3. ${ROUTE}`,
        `  4. ${BOTS(ALL_BOT_NAMES)}`,
        '  5. Choose the environment: `npm run deploy -- --env staging` or `npm run deploy -- --env production`.',
        'Not checked (--check asks Cloudflare nothing):',
        LOGIN_UNCHECKED,
        '  - the staging queues exist: gridplane-alerts-staging, gridplane-alerts-staging-dlq (`npx wrangler queues list`)',
        `  - the staging secrets are set on gridplane-staging: ${ALL_SECRETS} (\`npx wrangler secret list --env staging\`), or given with --secrets-file`,
        '  - the production queues exist: gridplane-alerts (`npx wrangler queues list`)',
        `  - the production secrets are set on gridplane-production: ${ALL_SECRETS} (\`npx wrangler secret list --env production\`), or given with --secrets-file`,
        '',
      ].join('\n'),
    );
  }, 60_000);

  it('staging with a partial secrets file: what the file lacks stays to check, the bots need what the file lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gp-deploy-secrets-'));
    const file = join(dir, 'staging.env');
    writeFileSync(
      file,
      '# staging\nADMIN_TOKEN=0123456789abcdef0123\nTELEGRAM_BOT_TOKEN="123456789:AAAAAAAAAAAAAAAAAAAAAAAA"\nDISCORD_BOT_TOKEN=\n',
    );
    const run = deployCheck(['--config', fixture('fresh.toml'), '--env', 'staging', '--secrets-file', file], {
      CLOUDFLARE_API_TOKEN: 'token-from-ci',
      DISCORD_APPLICATION_ID: '123456789012345678',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      [
        'Before deploying staging, do this first:',
        `  1. ${D1_STAGING}`,
        `  2. ${BOTS('DISCORD_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET')}`,
        'Not checked (--check asks Cloudflare nothing):',
        '  - the staging queues exist: gridplane-alerts-staging, gridplane-alerts-staging-dlq (`npx wrangler queues list`)',
        '  - the staging secrets are set on gridplane-staging: SOLANA_RPC_URL, TOKEN_MINT, TREASURY_SECRET_KEY, TELEGRAM_WEBHOOK_SECRET, DISCORD_APPLICATION_ID, DISCORD_PUBLIC_KEY, DISCORD_BOT_TOKEN (`npx wrangler secret list --env staging`), or given with --secrets-file',
        '',
      ].join('\n'),
    );
  }, 60_000);

  it('environments written as if wrangler inherited bindings: every missing block is named, nothing else is checked until they are there', () => {
    const run = deployCheck(['--config', fixture('incomplete.toml'), '--env', 'production', '--skip-bots']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      [
        'Before deploying production, do this first:',
        '  1. wrangler.toml: set the CPU limit per invocation, [limits] cpu_ms (the minute cron runs under it too).',
        "  2. wrangler.toml: [env.production] lacks the bindings NODE_SHARD, DB, ALERT_QUEUE, RATE_LIMIT_ADDRESS that the top level declares (wrangler does not inherit bindings into an environment): repeat their blocks under [env.production], with this environment's own database, queue and namespace names.",
        '  3. wrangler.toml: [env.production.vars] lacks ENVIRONMENT, TOKEN_DECIMALS (vars are not inherited either): set them there.',
        `  4. wrangler.toml: declare the secrets under [env.production.secrets] required = [...], so wrangler refuses a deploy while one is unset; missing: ${ALL_SECRETS}.`,
        '  5. Replace the example hostname in [env.production] routes (api.gridplane.example) with your own.',
        'Not checked (--check asks Cloudflare nothing):',
        LOGIN_UNCHECKED,
        '',
      ].join('\n'),
    );
  }, 60_000);

  it('a ready config: nothing to do first, exit 0, and what only Cloudflare can answer is listed', () => {
    const run = deployCheck(['--config', fixture('ready.toml'), '--env', 'production', '--skip-bots'], {
      CLOUDFLARE_API_TOKEN: 'token-from-ci',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      [
        'Preflight for production: nothing to do first.',
        'Not checked (--check asks Cloudflare nothing):',
        '  - the production queues exist: gridplane-alerts (`npx wrangler queues list`)',
        `  - the production secrets are set on gridplane-production: ${ALL_SECRETS} (\`npx wrangler secret list --env production\`), or given with --secrets-file`,
        '',
      ].join('\n'),
    );
  }, 60_000);

  it('an environment wrangler.toml does not have, and bad arguments', () => {
    const unknown = deployCheck(['--config', fixture('ready.toml'), '--env', 'prod', '--skip-bots'], { CLOUDFLARE_API_TOKEN: 't' });
    expect(unknown.status).toBe(1);
    expect(unknown.stdout.split('\n').filter((l) => /^ {2}\d+\. /.test(l))).toEqual([
      '  1. There is no [env.prod] in wrangler.toml: `npm run deploy -- --env staging` or `npm run deploy -- --env production`.',
    ]);
    const bad = deployCheck(['--config', fixture('ready.toml'), '--frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--frobnicate'");
    const missing = deployCheck(['--config', fixture('no-such.toml')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no-such.toml could not be read');
  }, 60_000);
});

describe("this repository's wrangler.toml", () => {
  it('each deploy environment repeats every binding and var of the top level and declares every required secret; a CPU limit is set', () => {
    const config = readDeployConfig(join(ROOT, 'wrangler.toml'));
    expect(config.envs.map((e) => e.name)).toEqual(['staging', 'production']);
    const facts: DeployFacts = {
      ...config,
      requestedEnv: 'production',
      auth: 'api-token',
      secretsFileNames: undefined,
      localCredentials: [],
      skipBots: true,
      remoteQueues: undefined,
      remoteSecrets: {},
    };
    for (const env of config.envs) {
      const result = preflight({ ...facts, requestedEnv: env.name });
      expect(result.todo.filter((t) => t.startsWith('wrangler.toml:'))).toEqual([]);
      expect(env.queues).toHaveLength(2);
    }
    // Production is reachable only at its own hostname, staging on workers.dev.
    expect(config.envs.find((e) => e.name === 'production')?.workersDev).toBe(false);
    expect(config.envs.find((e) => e.name === 'staging')?.workersDev).toBe(true);
  }, 60_000);
});

describe('preflight with what Cloudflare answered', () => {
  const ready = () => readDeployConfig(fixture('ready.toml'));
  const base = (): DeployFacts => ({
    ...ready(),
    requestedEnv: 'staging',
    auth: 'logged-in',
    secretsFileNames: undefined,
    localCredentials: ['DISCORD_APPLICATION_ID', 'DISCORD_BOT_TOKEN', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET'],
    skipBots: false,
    remoteQueues: ['gridplane-alerts-staging', 'gridplane-alerts-staging-dlq'],
    remoteSecrets: { staging: [...REQUIRED_SECRETS] },
  });

  it('all there: nothing to do, nothing unchecked', () => {
    expect(preflight(base())).toEqual({ todo: [], unchecked: [], targets: ['staging'] });
  }, 30_000);

  it('a fresh account: not logged in, no queues, a Worker that does not exist yet (no secrets)', () => {
    const result = preflight({ ...base(), auth: 'none', remoteQueues: [], remoteSecrets: { staging: [] } });
    expect(result.todo).toEqual([
      'Log in to Cloudflare: `npx wrangler login` (or set CLOUDFLARE_API_TOKEN to an API token that may edit Workers scripts, Workers routes, D1 and Queues, and CLOUDFLARE_ACCOUNT_ID to its account).',
      'Create the staging alert queues: `npx wrangler queues create gridplane-alerts-staging`, then `npx wrangler queues create gridplane-alerts-staging-dlq`.',
      `Set the staging secrets ${ALL_SECRETS}: \`npx wrangler secret put <NAME> --env staging\` for each; before the first deploy (gridplane-staging does not exist yet, so there is nothing to put them on) write them as NAME=value lines to a file outside git and pass \`--secrets-file <file>\`.`,
    ]);
    expect(result.unchecked).toEqual([]);
  }, 30_000);

  it('secrets split between the account and the secrets file: only what neither has is asked for', () => {
    const result = preflight({
      ...base(),
      remoteSecrets: { staging: ['ADMIN_TOKEN', 'TOKEN_MINT'] },
      secretsFileNames: REQUIRED_SECRETS.filter((s) => s !== 'ADMIN_TOKEN' && s !== 'TOKEN_MINT' && s !== 'DISCORD_PUBLIC_KEY'),
    });
    expect(result.todo).toHaveLength(1);
    expect(result.todo[0]).toMatch(/^Set the staging secrets DISCORD_PUBLIC_KEY: /);
  }, 30_000);

  it('only the dead-letter queue missing', () => {
    const result = preflight({ ...base(), remoteQueues: ['gridplane-alerts-staging'] });
    expect(result.todo).toEqual(['Create the staging alert queue: `npx wrangler queues create gridplane-alerts-staging-dlq`.']);
  }, 30_000);
});

describe('deploy helpers', () => {
  it('reads secrets files in both formats wrangler takes; empty values are unset', () => {
    expect(parseSecretsFile('# c\nexport A=1\nB = "two words"\nC=\nD=\'x\'\n  \nnot a line\n')).toEqual({ A: '1', B: 'two words', D: 'x' });
    expect(parseSecretsFile('{ "A": "1", "B": "", "C": 3 }')).toEqual({ A: '1' });
    expect(() => parseSecretsFile('["A"]')).toThrow('not an object');
  });

  it('migrations before the deploy, both on the chosen environment; the secrets file goes to the deploy', () => {
    expect(deployCommands('staging', { secretsFile: '/s/staging.env' })).toEqual([
      ['d1', 'migrations', 'apply', 'DB', '--remote', '--env', 'staging'],
      ['deploy', '--env', 'staging', '--secrets-file', '/s/staging.env'],
    ]);
    expect(deployCommands('production', { config: '/c/wrangler.toml' })).toEqual([
      ['d1', 'migrations', 'apply', 'DB', '--remote', '--env', 'production', '--config', '/c/wrangler.toml'],
      ['deploy', '--env', 'production', '--config', '/c/wrangler.toml'],
    ]);
  });

  it("the bots' webhook origin: the route's hostname, else the workers.dev address the deploy printed", () => {
    const env = {
      name: 'x',
      workerName: 'w',
      d1: [],
      queues: [],
      bindings: [],
      vars: [],
      secretsRequired: [],
      workersDev: true,
      routes: [] as string[],
    };
    expect(publicOrigin({ ...env, routes: ['api.gridplane.net/*'] }, '')).toBe('https://api.gridplane.net');
    expect(
      publicOrigin(env, 'Uploaded gridplane-staging (3.1 sec)\n  https://gridplane-staging.acme.workers.dev\nCurrent Version ID: 1'),
    ).toBe('https://gridplane-staging.acme.workers.dev');
    expect(publicOrigin(env, 'no address')).toBeUndefined();
  });
});
