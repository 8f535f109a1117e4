// The deploy preflight as a pure function: from what is known about wrangler.toml, the machine
// and (unless --check) the Cloudflare account, the numbered list of what to do before
// `npm run deploy` can work, and what could not be checked. No I/O here: deploy.ts gathers the
// facts, the tests feed fixtures (test/unit/deploy/).

/** What the Worker needs as secrets in every deploy environment; wrangler.toml declares them per environment. */
export const REQUIRED_SECRETS = [
  'ADMIN_TOKEN',
  'SOLANA_RPC_URL',
  'TOKEN_MINT',
  'TREASURY_SECRET_KEY',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'DISCORD_APPLICATION_ID',
  'DISCORD_PUBLIC_KEY',
  'DISCORD_BOT_TOKEN',
] as const;

/** What registering the bots' command menus after the deploy needs on this machine (Cloudflare never hands a secret back). */
export const BOT_MENU_CREDENTIALS = [
  'DISCORD_APPLICATION_ID',
  'DISCORD_BOT_TOKEN',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
] as const;

/** The id `wrangler.toml` ships with; a deploy needs the one `wrangler d1 create` prints. */
export const PLACEHOLDER_D1_ID = '00000000-0000-0000-0000-000000000000';

export interface EnvFacts {
  /** `staging` for [env.staging]. */
  name: string;
  /** The Worker's name there (wrangler appends the environment: gridplane-staging). */
  workerName: string;
  d1: { binding: string; databaseName: string; databaseId: string | undefined }[];
  /** Every queue the environment produces to, consumes, or dead-letters into, in that order. */
  queues: string[];
  /** Binding names the environment declares (Durable Objects, D1, queue producers, rate limits). */
  bindings: string[];
  vars: string[];
  /** `secrets.required`; undefined when the environment has no [env.<name>.secrets]. */
  secretsRequired: string[] | undefined;
  workersDev: boolean;
  /** Route patterns (hostnames with optional paths). */
  routes: string[];
}

export interface DeployFacts {
  /** The `--env` given, if any. */
  requestedEnv: string | undefined;
  /** Every [env.*] in wrangler.toml. */
  envs: EnvFacts[];
  /** Bindings and vars the top level declares: each deploy environment must repeat them. */
  topLevelBindings: string[];
  topLevelVars: string[];
  cpuMs: number | undefined;
  /** 'unknown': no API token in the environment and --check made no call to ask wrangler. */
  auth: 'api-token' | 'logged-in' | 'none' | 'unknown';
  /** Names in the --secrets-file, if one was given. */
  secretsFileNames: string[] | undefined;
  /** Bot credentials present on this machine (environment or secrets file). */
  localCredentials: string[];
  skipBots: boolean;
  /** What Cloudflare has; undefined under --check (or when asking failed). */
  remoteQueues: string[] | undefined;
  /** Per environment name: secrets set on its Worker ([] when the Worker does not exist yet). */
  remoteSecrets: Record<string, string[] | undefined>;
}

export interface Preflight {
  /** Numbered "do this first" items, in the order to do them. */
  todo: string[];
  /** What could not be checked without asking Cloudflare (--check). */
  unchecked: string[];
  /** The environments checked: the one asked for, or every one when none (or an unknown one) was. */
  targets: string[];
}

const code = (s: string) => `\`${s}\``;
const list = (names: readonly string[]) => names.join(', ');

export function preflight(facts: DeployFacts): Preflight {
  const todo: string[] = [];
  const unchecked: string[] = [];
  const envNames = facts.envs.map((e) => e.name);
  const chosen = facts.envs.find((e) => e.name === facts.requestedEnv);
  const targets = chosen ? [chosen] : facts.envs;

  if (facts.auth === 'none') {
    todo.push(
      `Log in to Cloudflare: ${code('npx wrangler login')} (or set CLOUDFLARE_API_TOKEN to an API token that may edit Workers scripts, Workers routes, D1 and Queues, and CLOUDFLARE_ACCOUNT_ID to its account).`,
    );
  } else if (facts.auth === 'unknown') {
    unchecked.push(`a Cloudflare login: ${code('npx wrangler whoami')} (or set CLOUDFLARE_API_TOKEN)`);
  }

  if (facts.envs.length === 0) {
    todo.push("wrangler.toml has no deploy environment: add [env.staging] and [env.production] (see this repository's wrangler.toml).");
  }
  if (facts.cpuMs === undefined) {
    todo.push('wrangler.toml: set the CPU limit per invocation, [limits] cpu_ms (the minute cron runs under it too).');
  }

  for (const env of targets) {
    const where = `[env.${env.name}]`;
    const lacking = facts.topLevelBindings.filter((b) => !env.bindings.includes(b));
    if (lacking.length > 0) {
      todo.push(
        `wrangler.toml: ${where} lacks the bindings ${list(lacking)} that the top level declares (wrangler does not inherit bindings into an environment): repeat their blocks under ${where}, with this environment's own database, queue and namespace names.`,
      );
    }
    const lackingVars = facts.topLevelVars.filter((v) => !env.vars.includes(v));
    if (lackingVars.length > 0) {
      todo.push(`wrangler.toml: [env.${env.name}.vars] lacks ${list(lackingVars)} (vars are not inherited either): set them there.`);
    }
    const undeclared = REQUIRED_SECRETS.filter((s) => !(env.secretsRequired ?? []).includes(s));
    if (undeclared.length > 0) {
      todo.push(
        `wrangler.toml: declare the secrets under [env.${env.name}.secrets] required = [...], so wrangler refuses a deploy while one is unset; missing: ${list(undeclared)}.`,
      );
    }

    for (const db of env.d1) {
      if (!db.databaseId || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(db.databaseId)) {
        todo.push(
          `Create the ${env.name} database: ${code(`npx wrangler d1 create ${db.databaseName}`)}, then put the database_id it prints into wrangler.toml's [[env.${env.name}.d1_databases]] (now ${db.databaseId ? `the placeholder ${db.databaseId}` : 'missing'}).`,
        );
      }
    }

    if (facts.remoteQueues === undefined) {
      if (env.queues.length > 0) unchecked.push(`the ${env.name} queues exist: ${list(env.queues)} (${code('npx wrangler queues list')})`);
    } else {
      const missing = env.queues.filter((q) => !facts.remoteQueues!.includes(q));
      if (missing.length > 0) {
        todo.push(
          `Create the ${env.name} alert queue${missing.length > 1 ? 's' : ''}: ${missing.map((q) => code(`npx wrangler queues create ${q}`)).join(', then ')}.`,
        );
      }
    }

    const required = env.secretsRequired ?? [];
    const fromFile = facts.secretsFileNames ?? [];
    const remote = facts.remoteSecrets[env.name];
    const notInFile = required.filter((s) => !fromFile.includes(s));
    if (remote === undefined) {
      if (notInFile.length > 0) {
        unchecked.push(
          `the ${env.name} secrets are set on ${env.workerName}: ${list(notInFile)} (${code(`npx wrangler secret list --env ${env.name}`)}), or given with --secrets-file`,
        );
      }
    } else {
      const missing = notInFile.filter((s) => !remote.includes(s));
      if (missing.length > 0) {
        todo.push(
          `Set the ${env.name} secrets ${list(missing)}: ${code(`npx wrangler secret put <NAME> --env ${env.name}`)} for each; before the first deploy (${env.workerName} does not exist yet, so there is nothing to put them on) write them as NAME=value lines to a file outside git and pass ${code('--secrets-file <file>')}.`,
        );
      }
    }

    if (!env.workersDev && env.routes.length === 0) {
      todo.push(
        `Give ${env.name} a public address: in wrangler.toml under [env.${env.name}], uncomment the ${code('routes = [...]')} line with your hostname (its zone on this Cloudflare account), or set workers_dev = true.`,
      );
    }
    const placeholders = env.routes.filter((r) => /(^|\.)example(\.|$|\/)/.test(r));
    if (placeholders.length > 0) {
      todo.push(`Replace the example hostname in [env.${env.name}] routes (${list(placeholders)}) with your own.`);
    }
  }

  if (!facts.skipBots) {
    const missing = BOT_MENU_CREDENTIALS.filter((n) => !facts.localCredentials.includes(n));
    if (missing.length > 0) {
      todo.push(
        `The bots' command menus are registered right after the deploy, from this machine: provide ${list(missing)} here (environment or --secrets-file; Cloudflare never hands a secret back), or pass --skip-bots and run ${code('npm run discord:register')} and ${code('npm run telegram:webhook -- <url>')} later.`,
      );
    }
  }

  if (!chosen) {
    const options = envNames.map((n) => code(`npm run deploy -- --env ${n}`)).join(' or ');
    todo.push(
      facts.requestedEnv === undefined
        ? `Choose the environment: ${options || code('npm run deploy -- --env <name>')}.`
        : `There is no [env.${facts.requestedEnv}] in wrangler.toml: ${options || 'add one'}.`,
    );
  }

  return { todo, unchecked, targets: targets.map((t) => t.name) };
}

export function formatPreflight(result: Preflight, offline: boolean): string {
  const lines: string[] = [];
  const subject = result.targets.length === 1 ? result.targets[0] : result.targets.join(' and ');
  if (result.todo.length > 0) {
    lines.push(`Before deploying ${subject}, do this first:`);
    for (const [i, item] of result.todo.entries()) lines.push(`  ${i + 1}. ${item}`);
  } else {
    lines.push(`Preflight for ${subject}: nothing to do first.`);
  }
  if (result.unchecked.length > 0) {
    lines.push(offline ? 'Not checked (--check asks Cloudflare nothing):' : 'Could not be checked:');
    for (const item of result.unchecked) lines.push(`  - ${item}`);
  }
  return lines.join('\n');
}

/** A --secrets-file's values: a JSON object, or NAME=value lines (the two formats wrangler reads). Empty values count as unset. */
export function parseSecretsFile(text: string): Record<string, string> {
  const trimmed = text.trim();
  // JSON when it looks like JSON at all, so a JSON array is refused rather than read as no lines.
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const value = JSON.parse(trimmed) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('the secrets file is JSON but not an object of NAME: value');
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  }
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const value = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
    if (value !== '') out[match[1]!] = value;
  }
  return out;
}

/** The commands a deploy runs once the preflight is clean, in order (wrangler's arguments). */
export function deployCommands(env: string, options: { secretsFile?: string; config?: string } = {}): string[][] {
  const config = options.config ? ['--config', options.config] : [];
  return [
    ['d1', 'migrations', 'apply', 'DB', '--remote', '--env', env, ...config],
    ['deploy', '--env', env, ...config, ...(options.secretsFile ? ['--secrets-file', options.secretsFile] : [])],
  ];
}

/** The Worker's public origin: the first route, else the workers.dev address wrangler deploy printed. */
export function publicOrigin(env: EnvFacts, deployOutput: string): string | undefined {
  const route = env.routes[0];
  if (route) return `https://${route.replace(/^https?:\/\//, '').replace(/[/*].*$/, '')}`;
  return /https:\/\/[A-Za-z0-9.-]+\.workers\.dev/.exec(deployOutput)?.[0];
}
