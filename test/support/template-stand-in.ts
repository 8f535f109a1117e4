import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { Template } from '../../workers/templates/templates.ts';

// The SIMULATED template stand-in (workers/templates/simulated-server.ts) for the tests: started
// as a real process the way the process runtime starts it, and a client of the shell's web
// terminal (a real WebSocket, `ws`), to the stand-in directly or through the edge (/e/<id>/…).

const children: ChildProcess[] = [];

/** Ends every stand-in started here (for afterAll). */
export function stopStandIns(): void {
  for (const c of children.splice(0)) c.kill('SIGTERM');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a template's simulated command as the process runtime does (edge-agent/src/jobs/
 * process-runtime.ts: a fresh temporary directory as its cwd and HOME, PORT, the template's env
 * with the token) and waits for its health path, as the agent polls it.
 */
export async function startStandIn(t: Template, token: string, basePath?: string): Promise<{ base: string; dir: string }> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gridplane-template-test-')));
  const port = await freePort();
  const env = {
    ...Object.fromEntries(Object.entries(t.env).map(([k, v]) => [k, v.replaceAll('{token}', token)])),
    ...(basePath ? { GRIDPLANE_BASE_PATH: basePath } : {}),
  };
  const [file, ...args] = t.simulatedCommand;
  const child = spawn(file === 'node' ? process.execPath : file!, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env, PORT: String(port) },
    stdio: 'ignore',
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${base}${basePath ? basePath.slice(0, -1) : ''}${t.healthPath}`).catch(() => null);
    if (res?.ok) return { base, dir };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${t.id}: the simulated server never answered its health path`);
}

/** The HTTP status a WebSocket upgrade is refused with (rejects if it is accepted). */
export function terminalRefusal(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`${url}: the upgrade was accepted`));
    });
    ws.on('error', () => undefined);
  });
}

export type TerminalMessage = { type: string; [k: string]: unknown };

export interface TerminalSession {
  ws: WebSocket;
  /** The terminal's first message: `{ type: 'hello', simulated, cwd, note }`. */
  hello: TerminalMessage;
  /** Sends one line and collects what comes back until its exit message. */
  run(line: string): Promise<{ stdout: string; stderr: string; exit: TerminalMessage }>;
}

export async function terminalSession(url: string): Promise<TerminalSession> {
  const ws = new WebSocket(url);
  const inbox: TerminalMessage[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (d) => {
    inbox.push(JSON.parse(String(d)) as TerminalMessage);
    wake?.();
  });
  const closed = new Promise<never>((_, reject) => ws.once('close', (code) => reject(new Error(`the terminal closed (${code})`))));
  closed.catch(() => undefined);
  const nextMessage = async (): Promise<TerminalMessage> => {
    while (inbox.length === 0) await Promise.race([new Promise<void>((r) => (wake = r)), closed]);
    return inbox.shift()!;
  };
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const hello = await nextMessage();
  return {
    ws,
    hello,
    async run(line) {
      ws.send(line);
      const got = { stdout: '', stderr: '' };
      for (;;) {
        const m = await nextMessage();
        if (m.type === 'exit') return { ...got, exit: m };
        got[m.stream as 'stdout' | 'stderr'] += String(m.data);
      }
    },
  };
}
