// `npm start`: the local control plane for a newcomer. Creates .dev.vars when missing, applies
// pending D1 migrations to the local database, then runs `wrangler dev` on port 8787 and fires its
// minute cron every minute, as deployed. Arguments after `--` go to wrangler dev
// (`npm start -- --port 9000`).
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
  const text = example.replace(/^ENVIRONMENT=.*$/m, 'ENVIRONMENT=development').replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${token}`);
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

// The minute cron, as Cloudflare runs it when deployed: wrangler dev never fires cron triggers by
// itself, so stopped nodes would stay online, alerts and deposits wait, until someone opened
// /__scheduled. `--test-scheduled` exposes that route; this timer opens it at every minute
// boundary (LOCAL_CRON_INTERVAL_S changes the period, 0 turns it off).
const cronEveryS = Number(process.env.LOCAL_CRON_INTERVAL_S ?? 60);
const portArg = args.findIndex((a) => a === '--port' || a.startsWith('--port='));
const port = portArg < 0 ? '8787' : args[portArg]!.includes('=') ? args[portArg]!.split('=')[1]! : args[portArg + 1]!;
const ipArg = args.findIndex((a) => a === '--ip' || a.startsWith('--ip='));
const host = ipArg < 0 ? '127.0.0.1' : args[ipArg]!.includes('=') ? args[ipArg]!.split('=')[1]! : args[ipArg + 1]!;
if (Number.isFinite(cronEveryS) && cronEveryS > 0) {
  const periodMs = cronEveryS * 1000;
  const tick = async () => {
    try {
      const res = await fetch(
        `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/__scheduled?cron=${encodeURIComponent('* * * * *')}`,
      );
      if (!res.ok) console.error(`local cron: /__scheduled answered ${res.status}`);
    } catch {
      // wrangler dev is not listening yet (or is restarting); the next tick tries again
    }
  };
  // On the period's boundaries (each wall-clock minute by default), as the deployed trigger fires.
  const schedule = () => setTimeout(() => void tick().finally(schedule), periodMs - (Date.now() % periodMs)).unref();
  schedule();
}
