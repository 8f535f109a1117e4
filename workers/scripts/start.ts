// `npm start`: the local control plane for a newcomer. Creates .dev.vars when missing, applies
// pending D1 migrations to the local database, then runs `wrangler dev` on port 8787. Arguments
// after `--` go to wrangler dev (`npm start -- --port 9000`).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

function ensureDevVars(): void {
  const path = resolve(root, '.dev.vars');
  if (existsSync(path)) return;
  const example = readFileSync(resolve(root, '.dev.vars.example'), 'utf8');
  const token = randomBytes(24).toString('hex');
  const text = example
    .replace(/^ENVIRONMENT=.*$/m, 'ENVIRONMENT=development')
    .replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${token}`);
  writeFileSync(path, text, { mode: 0o600 });
  console.log(`Created ${path} with a random ADMIN_TOKEN (used for /v1/admin/* routes).`);
}

/** Options that choose the local state directory must reach the migration step too. */
function persistArgs(): string[] {
  const i = args.findIndex((a) => a === '--persist-to' || a.startsWith('--persist-to='));
  if (i < 0) return [];
  return args[i]!.includes('=') ? [args[i]!] : [args[i]!, args[i + 1] ?? ''];
}

function wrangler(wranglerArgs: string[], stdio: 'inherit' | 'pipe' = 'inherit') {
  return spawnSync('wrangler', wranglerArgs, { cwd: root, env, stdio, shell: false });
}

ensureDevVars();
const migrate = wrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...persistArgs()]);
if (migrate.status !== 0) {
  console.error('Applying local D1 migrations failed; see the output above.');
  process.exit(migrate.status ?? 1);
}

const hasPort = args.some((a) => a === '--port' || a.startsWith('--port='));
const devArgs = ['dev', ...(hasPort ? [] : ['--port', '8787']), '--test-scheduled', ...args];
const dev = spawn('wrangler', devArgs, { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
