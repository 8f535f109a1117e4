import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase58 } from '../../protocol/base58.ts';
import { repoRoot, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { runProcess, type ProcessRun } from '../support/run-process.ts';
import { terminalRefusal, terminalSession } from '../support/template-stand-in.ts';
import startTelegramApi, { type RecordedCall } from '../worker/setup/telegram-api.ts';
import { waitFor } from './agent-process.ts';
import { PARIS, tickUntil } from './endpoints-helpers.ts';
import { readyAgent, type ReadyAgent } from './jobs-helpers.ts';

// Template rentals on the real local stack (issue 15): a person links a wallet and rents a
// notebook, then a shell, by Telegram taps — the webhook exactly as Telegram calls it, the Bot
// API a local stand-in (test/worker/setup/telegram-api.ts) — and opens what the "Rented" message
// gives: the notebook's page through the endpoint URL (gateway → the node's tunnel → the agent's
// replica; the notebook keeps its /e/<id>/ prefix and serves under it), and the shell's web
// terminal: its page, and its WebSocket through the edge (the gateway passes the upgrade through
// the node's tunnel to the replica) running a command, then the "one command to connect" of the
// message, `gridplane shell <url>`, run as a process. The agent uses the process runtime, so each
// template runs its SIMULATED stand-in server (workers/templates/simulated-server.ts), for real.

const SECRET = 'e2e-telegram-webhook-secret';
let stack: LocalStack;
let stopTelegram: () => Promise<void>;
let telegramPort = 0;
let agent: ReadyAgent | undefined;
let updateId = 1;
const previousCron = process.env.LOCAL_CRON_INTERVAL_S;

beforeAll(async () => {
  stopTelegram = await startTelegramApi({ provide: (_name: string, port: number) => (telegramPort = port) } as never);
  process.env.LOCAL_CRON_INTERVAL_S = '0';
  stack = await startLocalStack({
    HEARTBEAT_INTERVAL_S: '2',
    TELEGRAM_BOT_TOKEN: '123456789:E2E-token_abcdefghijklmnopqrstuv',
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_API_ROOT: `http://127.0.0.1:${telegramPort}`,
  });
});

afterAll(async () => {
  await agent?.stop();
  await stack?.stop();
  await stopTelegram?.();
  if (previousCron === undefined) delete process.env.LOCAL_CRON_INTERVAL_S;
  else process.env.LOCAL_CRON_INTERVAL_S = previousCron;
});

type Button = { text: string; callback_data?: string; url?: string };
const buttonsOf = (c: RecordedCall) =>
  ((c.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
const plain = (html: unknown) =>
  String(html)
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

async function screens(chatId: number): Promise<RecordedCall[]> {
  const res = await fetch(`http://127.0.0.1:${telegramPort}/__requests?chatId=${chatId}`);
  return ((await res.json()) as RecordedCall[]).filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText');
}

async function post(update: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.url}/telegram/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify({ update_id: ++updateId, ...update }),
  });
  expect(res.status).toBe(200);
}

const from = (chatId: number) => ({ id: chatId, is_bot: false, first_name: 'Ada' });
const chat = (chatId: number) => ({ id: chatId, type: 'private', first_name: 'Ada' });

async function send(chatId: number, text: string): Promise<RecordedCall> {
  const before = (await screens(chatId)).length;
  await post({
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: chat(chatId),
      from: from(chatId),
      text,
      entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
    },
  });
  return waitFor(`an answer to ${text}`, async () => (await screens(chatId)).slice(before).at(-1));
}

async function tap(chatId: number, screen: RecordedCall, label: string): Promise<RecordedCall> {
  const button = buttonsOf(screen).find((b) => b.text === label);
  expect(
    button,
    `no button ${label} in ${buttonsOf(screen)
      .map((b) => b.text)
      .join(', ')}`,
  ).toBeDefined();
  const before = (await screens(chatId)).length;
  await post({
    callback_query: {
      id: `cq${updateId}`,
      from: from(chatId),
      chat_instance: `ci${chatId}`,
      data: button!.callback_data,
      message: { message_id: screen.seq, date: 0, chat: chat(chatId), text: '…' },
    },
  });
  return waitFor(`something after ${label}`, async () => (await screens(chatId)).slice(before).at(-1));
}

/** /link, then the wallet's sign-in (SIWS, as the wallet page does it) and the chat's Confirm. */
async function linkedChat(): Promise<{ chatId: number; apiKey: string }> {
  const chatId = 2_000_000 + Math.floor(Math.random() * 1e6);
  const link = await send(chatId, '/link');
  const linkToken = new URL(buttonsOf(link).find((b) => b.url)!.url!).searchParams.get('token')!;
  const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const address = encodeBase58(new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey)));
  const postJson = (path: string, body: unknown) =>
    fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const { message } = (await (await postJson('/v1/auth/siws/challenge', { address, linkToken })).json()) as { message: string };
  const signature = encodeBase58(new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, new TextEncoder().encode(message))));
  const verified = await postJson('/v1/auth/siws/verify', { message, signature });
  expect(verified.status).toBe(200);
  const { accountId, apiKey } = (await verified.json()) as { accountId: string; apiKey: string };
  const notice = await waitFor('the sign-in notice', async () =>
    (await screens(chatId)).find((c) => plain(c.body.text).startsWith('🔗 Wallet')),
  );
  expect(plain((await tap(chatId, notice, 'Confirm')).body.text)).toContain('is now linked');
  const funded = await postJson('/v1/dev/faucet', { accountId, amount: '50.000000' });
  expect(funded.status).toBe(201);
  return { chatId, apiKey };
}

/** /rent by taps to the quote, then the template's button: the "Rented" message, as read. */
async function rentByTaps(chatId: number, template: string): Promise<string> {
  let screen = await send(chatId, '/rent');
  for (const label of ['RTX 4090', '1', '1 h', 'Europe (west)']) screen = await tap(chatId, screen, label);
  return plain((await tap(chatId, screen, template)).body.text);
}

async function readyEndpoint(apiKey: string, endpointId: string): Promise<void> {
  await tickUntil(
    stack,
    `${endpointId} ready`,
    async () => {
      const res = await fetch(`${stack.url}/v1/endpoints/${endpointId}`, { headers: { authorization: `Bearer ${apiKey}` } });
      const ep = (await res.json()) as { replicaSet: { ready: boolean }[] };
      return ep.replicaSet.some((r) => r.ready) ? true : undefined;
    },
    90_000,
  );
}

describe('template rentals end to end', () => {
  it('rents a notebook by Telegram taps and opens its page through the endpoint URL; rents a shell and runs a command in its web terminal', {
    timeout: 300_000,
  }, async () => {
    agent = await readyAgent(stack, { name: 'paris-templates', ...PARIS, country: 'FR', simulateGpus: 'RTX 4090x2' });
    await waitFor('the tunnel', async () => (agent!.output().includes('"tunnel_open"') ? true : undefined));
    const { chatId, apiKey } = await linkedChat();

    const notebook = await rentByTaps(chatId, 'Jupyter notebook (PyTorch)');
    expect(notebook).toMatch(/^✅ Rented/);
    const page = /Open in your browser: (\S+)/.exec(notebook)?.[1];
    expect(page, notebook).toMatch(new RegExp(`^${stack.url}/e/ep_[0-9a-f]{32}/lab\\?token=[A-Za-z0-9_-]{32}$`));
    const notebookId = /\/e\/(ep_[0-9a-f]{32})\//.exec(page!)![1]!;
    await readyEndpoint(apiKey, notebookId);
    const opened = await fetch(page!);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await opened.text();
    expect(html).toContain('<h1>SIMULATED notebook</h1>');
    // Served under its base path, as Jupyter under base_url: the server got the whole /e/<id>/ path
    // (the endpoint keeps its prefix) and its links point under it.
    expect(html).toContain(`Path: /e/${notebookId}/lab`);
    expect(html).toContain(`<a href="/e/${notebookId}/lab">`);
    // The token is the door: the same URL without it is refused by the notebook's server.
    expect((await fetch(page!.replace(/\?token=.*$/, ''))).status).toBe(403);

    const shell = await rentByTaps(chatId, 'Shell (web terminal)');
    expect(shell).toContain('SIMULATED');
    const command = /Connect from a terminal: gridplane shell '(\S+)'/.exec(shell)?.[1];
    expect(command, shell).toMatch(new RegExp(`^${stack.url}/e/ep_[0-9a-f]{32}/terminals/1\\?token=[A-Za-z0-9_-]{32}$`));
    expect(/Or open it in your browser: (\S+)/.exec(shell)?.[1]).toBe(command);
    const shellId = /\/e\/(ep_[0-9a-f]{32})\//.exec(command!)![1]!;
    await readyEndpoint(apiKey, shellId);

    // The page, through the edge: the web terminal, labelled SIMULATED.
    const terminalPage = await fetch(command!);
    expect(terminalPage.status).toBe(200);
    expect(await terminalPage.text()).toContain('<h1>SIMULATED shell</h1>');

    // Its WebSocket through the edge, as the page's script opens it: the page's URL + /ws, the token in the query.
    const socketUrl = command!.replace(/^http/, 'ws').replace('/terminals/1?', '/terminals/1/ws?');
    // The renter's alone: the upgrade without the token, or with another, is refused (by the
    // server, as Jupyter would; the endpoint is open at the gateway since a browser cannot send a key).
    expect(await terminalRefusal(socketUrl.replace(/\?token=.*$/, ''))).toBe(403);
    expect(await terminalRefusal(socketUrl.replace(/token=.*$/, 'token=not-the-token'))).toBe(403);
    const session = await terminalSession(socketUrl);
    expect(session.hello).toMatchObject({ type: 'hello', simulated: true });
    expect(await session.run('echo hello-$((6*7))')).toEqual({ stdout: 'hello-42\n', stderr: '', exit: { type: 'exit', code: 0 } });
    // Commands run in the replica's own temporary directory (the process runtime's), not in the
    // operator's: not the agent's working directory, not this checkout.
    const pwd = (await session.run('pwd')).stdout.trim();
    expect(pwd).toMatch(new RegExp(`^${tmpdir()}/gridplane-rep_[^/]+$`));
    expect(pwd).not.toBe(process.cwd());
    session.ws.close();

    // The message's one command, as a renter runs it: the CLI, its standard input piped.
    const cli = await runCli(['shell', command!], 'echo hello-$((6*7))\nexit 5\n');
    expect(cli.stdout).toBe('hello-42\n');
    expect(cli.stderr).toContain('SIMULATED shell');
    expect(cli.code).toBe(5);
  });
});

function runCli(args: string[], input: string): Promise<ProcessRun> {
  const home = mkdtempSync(join(tmpdir(), 'gridplane-cli-home-'));
  return runProcess(process.execPath, [join(repoRoot, 'bin/gridplane.mjs'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home },
    input,
  });
}
