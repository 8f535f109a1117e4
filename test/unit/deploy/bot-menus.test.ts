// The deploy's last steps, the bots' command menus: the real registration scripts
// (`npm run discord:register`, `npm run telegram:webhook`) run as `npm run deploy` runs them,
// against loopback stand-ins for Discord's REST API and Telegram's Bot API that record what
// reached them.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TELEGRAM_MENU } from '../../../bots/telegram/menu.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A loopback server answering each request with `answer(seen)` and recording it. */
async function standIn(answer: (seen: Seen) => unknown): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(entry)));
    });
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return { origin: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

/** Runs a script with only the given environment (no .dev.vars in its working directory's way: the values given win). */
function runScript(args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(TSX, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (status) => done({ status, output }));
  });
}

/**
 * The definitions, computed by the module the router uses; in a child process because that module
 * reaches Worker code whose types are not in this (Node-side) program.
 */
async function commandDefinitions(): Promise<{ name: string }[]> {
  const run = await runScript(
    ['-e', "import('./bots/discord/commands.ts').then((m) => process.stdout.write(JSON.stringify(m.discordCommandDefinitions())))"],
    {},
  );
  expect(run.status, run.output).toBe(0);
  return JSON.parse(run.output) as { name: string }[];
}

describe('Discord slash commands (npm run discord:register, @discordjs/rest)', () => {
  it('puts every command definition, with the bot token, at the application commands route', async () => {
    const api = await standIn((s) => (s.body as { name: string }[]).map((c, i) => ({ id: String(i), name: c.name })));
    const run = await runScript(['bots/discord/register.ts'], {
      DISCORD_APPLICATION_ID: '123456789012345678',
      DISCORD_BOT_TOKEN: 'bot-token-for-test',
      DISCORD_API_ROOT: `${api.origin}/api/v10`,
    });
    expect(run.status, run.output).toBe(0);
    expect(api.seen).toHaveLength(1);
    expect(api.seen[0]).toMatchObject({
      method: 'PUT',
      url: '/api/v10/applications/123456789012345678/commands',
      authorization: 'Bot bot-token-for-test',
    });
    const definitions = await commandDefinitions();
    expect(api.seen[0]!.body).toEqual(definitions);
    expect(run.output).toContain(`Registered ${definitions.length} commands globally: ${definitions.map((c) => `/${c.name}`).join(' ')}`);
  }, 60_000);

  it('without credentials: says what to set, exit 2, nothing sent', async () => {
    const api = await standIn(() => []);
    const run = await runScript(['bots/discord/register.ts'], { DISCORD_API_ROOT: `${api.origin}/api/v10` });
    expect(run.status).toBe(2);
    expect(run.output).toContain('Set DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN');
    expect(api.seen).toEqual([]);
  }, 60_000);
});

describe('Telegram webhook and menu (npm run telegram:webhook)', () => {
  it('sets the webhook at <origin>/telegram/webhook with the secret, then the command menu', async () => {
    const api = await standIn((s) =>
      s.url.endsWith('/getWebhookInfo')
        ? { ok: true, result: { url: 'https://gridplane-staging.acme.workers.dev/telegram/webhook', pending_update_count: 0 } }
        : { ok: true, result: true },
    );
    const run = await runScript(['bots/telegram/scripts/set-webhook.ts', 'https://gridplane-staging.acme.workers.dev'], {
      TELEGRAM_BOT_TOKEN: '123456789:TEST-token_abcdefghijklmnopqrstuv',
      TELEGRAM_WEBHOOK_SECRET: 'test-telegram-webhook-secret',
      TELEGRAM_API_ROOT: api.origin,
    });
    expect(run.status, run.output).toBe(0);
    expect(api.seen.map((s) => s.url)).toEqual([
      '/bot123456789:TEST-token_abcdefghijklmnopqrstuv/setWebhook',
      '/bot123456789:TEST-token_abcdefghijklmnopqrstuv/setMyCommands',
      '/bot123456789:TEST-token_abcdefghijklmnopqrstuv/getWebhookInfo',
    ]);
    expect(api.seen[0]!.body).toMatchObject({
      url: 'https://gridplane-staging.acme.workers.dev/telegram/webhook',
      secret_token: 'test-telegram-webhook-secret',
    });
    expect(api.seen[1]!.body).toEqual({ commands: JSON.parse(JSON.stringify(TELEGRAM_MENU)) });
  }, 60_000);
});
