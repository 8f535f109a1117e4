import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_VALUE_CHARS } from '../../../protocol/job-rules.ts';
import { fillPlaceholders, templateCatalogueSchema, TEMPLATES, type Template } from '../../../workers/templates/templates.ts';

// The template catalogue (workers/templates/templates.ts) is checked at load; these tests say what
// the check refuses, and run the SIMULATED stand-in server every template uses under the process
// runtime, as a real process, the way the agent starts it (`node -e <script>` with PORT set).

describe('the template catalogue', () => {
  it('holds the four templates, each valid', () => {
    expect(TEMPLATES.map((t) => t.id)).toEqual(['notebook', 'chat', 'shell', 'custom']);
    expect(templateCatalogueSchema.safeParse(TEMPLATES).success).toBe(true);
    for (const t of TEMPLATES) {
      expect(t.simulatedCommand.every((a) => a.length <= MAX_VALUE_CHARS)).toBe(true);
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

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

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

/** Starts the template's simulated command as the process runtime would and waits for the template's health path (what the agent polls). */
async function startSimulated(t: Template, token: string, basePath?: string): Promise<string> {
  const port = await freePort();
  const env = {
    ...Object.fromEntries(Object.entries(t.env).map(([k, v]) => [k, v.replaceAll('{token}', token)])),
    ...(basePath ? { GRIDPLANE_BASE_PATH: basePath } : {}),
  };
  const [file, ...args] = t.simulatedCommand;
  const child = spawn(file === 'node' ? process.execPath : file!, args, {
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: 'ignore',
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${base}${basePath ? basePath.slice(0, -1) : ''}${t.healthPath}`).catch(() => null);
    if (res?.ok) return base;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${t.id}: the simulated server never answered /health`);
}

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
    expect(await (await fetch(`${shell}/e/ep_abc/run?token=sh`, { method: 'POST', body: 'echo under base' })).text()).toBe('under base\n');
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

  it('shell: runs a command with its token and returns the output and exit code', async () => {
    const base = await startSimulated(byId('shell'), 'sh-token');
    expect((await fetch(`${base}/run`, { method: 'POST', body: 'echo no' })).status).toBe(403);
    const ok = await fetch(`${base}/run?token=sh-token`, { method: 'POST', body: 'echo hello from $((6*7))' });
    expect(await ok.text()).toBe('hello from 42\n');
    const failed = await fetch(`${base}/run`, { method: 'POST', body: 'exit 3', headers: { authorization: 'token sh-token' } });
    expect(await failed.text()).toBe('exit 3\n');
  });
});
