import { connect } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runShell, terminalSocketUrl } from '../../../cli/src/shell.ts';
import { MAX_COMMAND_ARGS, MAX_VALUE_CHARS } from '../../../protocol/job-rules.ts';
import { startStandIn, stopStandIns, terminalRefusal, terminalSession } from '../../support/template-stand-in.ts';
import { fillPlaceholders, templateCatalogueSchema, TEMPLATES, type Template } from '../../../workers/templates/templates.ts';

// The template catalogue (workers/templates/templates.ts) is checked at load; these tests say what
// the check refuses, and run the SIMULATED stand-in server every template uses under the process
// runtime, as a real process, the way the agent starts it (`node -e <loader> -- <parts>` with PORT
// set, in a fresh temporary directory); the shell's web terminal over a real WebSocket (`ws`), and
// the `gridplane shell` CLI's session against it.

describe('the template catalogue', () => {
  it('holds the four templates, each valid', () => {
    expect(TEMPLATES.map((t) => t.id)).toEqual(['notebook', 'chat', 'shell', 'custom']);
    expect(templateCatalogueSchema.safeParse(TEMPLATES).success).toBe(true);
    for (const t of TEMPLATES) {
      expect(t.simulatedCommand.every((a) => a.length <= MAX_VALUE_CHARS)).toBe(true);
      expect(t.simulatedCommand.length).toBeLessThanOrEqual(MAX_COMMAND_ARGS);
      expect(t.access === 'key' || Object.values(t.env).some((v) => v.includes('{token}'))).toBe(true);
    }
  });

  it('serves the notebook and shell under their base path: keep endpoints whose Jupyter gets base_url and allow_origin', () => {
    for (const id of ['notebook', 'shell']) {
      const t = TEMPLATES.find((x) => x.id === id)!;
      expect(t.pathPrefix).toBe('keep');
      expect(t.command.join(' ')).toContain('--ServerApp.base_url="$GRIDPLANE_BASE_PATH"');
      expect(t.command.join(' ')).toContain('--ServerApp.allow_origin="$GP_PUBLIC_ORIGIN"');
      expect(t.env.GP_PUBLIC_ORIGIN).toBe('{origin}');
    }
    expect(TEMPLATES.filter((t) => t.pathPrefix === 'strip').map((t) => t.id)).toEqual(['chat', 'custom']);
  });

  it('refuses duplicate ids, a token template that never passes its token, and a bad image', () => {
    const notebook = TEMPLATES[0]!;
    const issue = (list: unknown[]) => {
      const r = templateCatalogueSchema.safeParse(list);
      return r.success ? null : r.error.issues.map((i) => i.message).join('; ');
    };
    expect(issue([notebook, notebook])).toContain('unique');
    expect(issue([{ ...notebook, env: { GP_TEMPLATE: 'notebook' } }])).toContain('{token}');
    expect(issue([{ ...notebook, image: 'Not An Image' }])).toMatch(/image reference/);
    expect(issue([{ ...notebook, image: 'localhost:5000/x' }])).toMatch(/registry/);
    expect(issue([{ ...notebook, id: 'Bad Id' }])).toMatch(/lower-case/);
    expect(issue([])).not.toBeNull();
  });

  it('fills {url}, {token} and {key}, and leaves a placeholder it has no value for', () => {
    expect(fillPlaceholders('{url}lab?token={token}', { url: 'https://x/e/ep_1/', token: 't0k' })).toBe('https://x/e/ep_1/lab?token=t0k');
    expect(fillPlaceholders('Bearer {key}', { url: 'u' })).toBe('Bearer {key}');
  });
});

afterAll(stopStandIns);

/** The stand-in's base URL, started as the process runtime starts it. */
const startSimulated = async (t: Template, token: string, basePath?: string) => (await startStandIn(t, token, basePath)).base;

const byId = (id: string) => TEMPLATES.find((t) => t.id === id)!;

describe('the SIMULATED stand-in server', () => {
  it('notebook: a page labelled SIMULATED with the token, 403 without it', async () => {
    const base = await startSimulated(byId('notebook'), 'secret-token');
    expect((await fetch(`${base}/lab`)).status).toBe(403);
    expect((await fetch(`${base}/lab?token=wrong`)).status).toBe(403);
    const page = await fetch(`${base}/lab?token=secret-token`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<h1>SIMULATED notebook</h1>');
  });

  it('serves under GRIDPLANE_BASE_PATH as Jupyter does under base_url: the path after it, links under it', async () => {
    const base = await startSimulated(byId('notebook'), 'tok', '/e/ep_abc/');
    expect((await fetch(`${base}/e/ep_abc/api`)).status).toBe(200);
    const page = await (await fetch(`${base}/e/ep_abc/lab?token=tok`)).text();
    expect(page).toContain('Path: /e/ep_abc/lab');
    expect(page).toContain('<a href="/e/ep_abc/lab">');
    expect((await fetch(`${base}/e/ep_abc/lab`)).status).toBe(403);
    const shell = await startSimulated(byId('shell'), 'sh', '/e/ep_abc/');
    expect(await (await fetch(`${shell}/e/ep_abc/terminals/1?token=sh`)).text()).toContain('<title>SIMULATED shell</title>');
    const session = await terminalSession(`${shell.replace('http', 'ws')}/e/ep_abc/terminals/1/ws?token=sh`);
    expect(await session.run('echo under base')).toEqual({ stdout: 'under base\n', stderr: '', exit: { type: 'exit', code: 0 } });
    session.ws.close();
  });

  it('chat: OpenAI-shaped models and chat completions', async () => {
    const base = await startSimulated(byId('chat'), 'unused');
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['simulated-chat']);
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    const answer = (await res.json()) as { object: string; choices: { message: { role: string; content: string } }[] };
    expect(answer.object).toBe('chat.completion');
    expect(answer.choices[0]!.message).toEqual({ role: 'assistant', content: 'SIMULATED answer to: Hello' });
  });

  it('shell: a web terminal page labelled SIMULATED; its WebSocket, with the token, runs each line in the replica directory', async () => {
    const { base, dir } = await startStandIn(byId('shell'), 'sh-token');
    expect((await fetch(`${base}/terminals/1`)).status).toBe(403);
    const page = await fetch(`${base}/terminals/1?token=sh-token`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<h1>SIMULATED shell</h1>');
    expect(html).toContain("u.pathname = u.pathname.replace(/\\/+$/, '') + '/ws';");
    expect(html).toContain('new WebSocket(u.href)');

    const ws = base.replace('http', 'ws');
    // The upgrade is authorised as the page is: without the token (or with a wrong one) it is refused.
    expect(await terminalRefusal(`${ws}/terminals/1/ws`)).toBe(403);
    expect(await terminalRefusal(`${ws}/terminals/1/ws?token=wrong`)).toBe(403);
    expect(await terminalRefusal(`${ws}/elsewhere/ws?token=sh-token`)).toBe(404);

    const session = await terminalSession(`${ws}/terminals/1/ws?token=sh-token`);
    expect(session.hello).toMatchObject({ type: 'hello', simulated: true, cwd: dir });
    expect(String(session.hello.note)).toMatch(/^SIMULATED shell/);
    expect(await session.run('echo hello-$((6*7))')).toEqual({ stdout: 'hello-42\n', stderr: '', exit: { type: 'exit', code: 0 } });
    // The replica's directory, not the operator's (the agent's cwd, this test's).
    expect((await session.run('pwd')).stdout).toBe(`${dir}\n`);
    expect(dir).not.toBe(process.cwd());
    expect(await session.run('echo oops >&2; exit 3')).toEqual({ stdout: '', stderr: 'oops\n', exit: { type: 'exit', code: 3 } });
    // Files stay in the replica's directory between lines.
    await session.run('echo kept > note.txt');
    expect((await session.run('cat note.txt')).stdout).toBe('kept\n');
    // A message over 64 KiB is refused, and the socket closed (1009).
    const closed = new Promise<number>((resolve) => session.ws.once('close', (code) => resolve(code)));
    session.ws.send('x'.repeat(70_000));
    expect(await closed).toBe(1009);
  });

  it('shell: refuses a client frame that is not masked (RFC 6455) with a close 1002', async () => {
    const base = new URL(await startSimulated(byId('shell'), 'tok'));
    const socket = connect(Number(base.port), '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (d) => (received = Buffer.concat([received, d])));
    socket.write(
      'GET /terminals/1/ws?token=tok HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await waitUntil(() => received.includes('"hello"'));
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 .*\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/s);
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // "hi", unmasked
    await waitUntil(() => received.includes(Buffer.from([0x88])));
    const close = received.subarray(received.lastIndexOf(0x88));
    expect(close.readUInt16BE(2)).toBe(1002);
    socket.destroy();
  });

  it('gridplane shell: pipes its standard input line by line and ends with the last exit status', async () => {
    const base = await startSimulated(byId('shell'), 'cli-token', '/e/ep_cli/');
    expect(terminalSocketUrl(`${base}/e/ep_cli/terminals/1?token=cli-token`)).toBe(
      `${base.replace('http', 'ws')}/e/ep_cli/terminals/1/ws?token=cli-token`,
    );
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d) => (stdout += d));
    err.on('data', (d) => (stderr += d));
    const io = {
      stdin: Readable.from(['echo hello-$((6*7))\n', 'echo to-err >&2\nexit 4\n']),
      stdout: out,
      stderr: err,
      interactive: false,
    };
    expect(await runShell(`${base}/e/ep_cli/terminals/1?token=cli-token`, io)).toBe(4);
    expect(stdout).toBe('hello-42\n');
    expect(stderr).toContain('SIMULATED shell');
    expect(stderr).toContain('to-err\n');
    const refused = { stdin: Readable.from([]), stdout: new PassThrough(), stderr: new PassThrough(), interactive: false };
    let refusedErr = '';
    refused.stderr.on('data', (d) => (refusedErr += d));
    expect(await runShell(`${base}/e/ep_cli/terminals/1?token=wrong`, refused)).toBe(1);
    expect(refusedErr).toContain('HTTP 403');
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
