// Starts the real local control plane (`npm start`, i.e. wrangler dev with a local D1) on a free
// port with its own state directory, for end-to-end tests and the bench. Only one wrangler dev can
// run on a machine at a time, so callers start one stack and share it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface LocalStack {
  url: string;
  adminToken: string;
  stop(): Promise<void>;
  /** Runs the cron handler once, as the Cron Trigger would. */
  runCron(): Promise<void>;
  logs(): string;
  /** wrangler dev's --persist-to folder (its local D1 lives under it), for tests that read rows no route shows. */
  stateDir: string;
}

export const repoRoot = resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

/** Tries this many ports before giving up on a port taken between freePort() and wrangler's bind. */
const START_ATTEMPTS = 3;

export async function startLocalStack(vars: Record<string, string> = {}): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(vars);
    } catch (error) {
      // freePort() closes its probe before wrangler binds: with stacks, agents and replicas
      // starting at once (e2e and browser files run side by side), another process can take the
      // port in between. Seen once in a full run: "Address already in use" and the file failed.
      if (!(error instanceof PortTaken) || attempt >= START_ATTEMPTS) throw error;
      console.warn(`local stack: ${error.message}; starting again on another port (attempt ${attempt + 1})`);
    }
  }
}

class PortTaken extends Error {}

async function startOnce(vars: Record<string, string>): Promise<LocalStack> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'gridplane-stack-'));
  const adminToken = 'local-stack-admin-token-0123456789';
  const varArgs = Object.entries({ ENVIRONMENT: 'development', ADMIN_TOKEN: adminToken, ...vars }).flatMap(([k, v]) => [
    '--var',
    `${k}:${v}`,
  ]);
  const child: ChildProcess = spawn(
    'npm',
    ['start', '--', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', state, '--show-interactive-dev-session=false', ...varArgs],
    {
      cwd: repoRoot,
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  // If the test process dies without calling stop(), take the stack down with it.
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      process.off('exit', killGroup);
      rmSync(state, { recursive: true, force: true });
      if (/Address already in use/.test(output)) throw new PortTaken(`port ${port} was taken before wrangler dev bound it`);
      throw new Error(`local stack exited early:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`local stack did not start within 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    adminToken,
    stateDir: state,
    logs: () => output,
    runCron: async () => {
      const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
      if (!res.ok) throw new Error(`cron trigger failed: ${res.status} ${await res.text()}`);
    },
    stop: async () => {
      process.off('exit', killGroup);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}
