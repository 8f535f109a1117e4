import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import * as z from 'zod';
import { UsageError } from './parse.ts';

// `gridplane shell <URL>`: a rented shell from a terminal. The URL is the one the "Rented" message
// shows for the browser (…/e/<id>/terminals/1?token=…); its WebSocket is the same URL + `/ws`,
// the token carried the same way. Each line read from standard input goes as one message and runs
// there as a command; its output comes back as it is written, then its exit code. The protocol is
// the SIMULATED stand-in's web terminal (workers/templates/simulated-server.ts): a rental on a
// Docker host runs Jupyter's own terminal, which is opened in the browser, not with this command.
// With standard input from a pipe or a file, it ends once every line has run, with the exit
// status of the last; at a terminal, Ctrl-D ends it.

/** What the terminal sends (anything else ends the session: it is not the terminal we speak to). */
const terminalMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), note: z.string().max(2000) }),
  z.object({ type: z.literal('output'), stream: z.enum(['stdout', 'stderr']), data: z.string() }),
  z.object({ type: z.literal('exit'), code: z.number().int().nullable(), reason: z.string().max(2000).optional() }),
]);

/** The terminal's WebSocket for its page URL: ws(s), `/ws` after the path, the query (its token) kept. */
export function terminalSocketUrl(pageUrl: string): string {
  let u: URL;
  try {
    u = new URL(pageUrl);
  } catch {
    throw new UsageError(`shell: "${pageUrl}" is not a URL; give the one the "Rented" message shows.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError('shell: give the http(s) URL the "Rented" message shows.');
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (!u.pathname.endsWith('/ws')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws`;
  u.hash = '';
  return u.href;
}

export interface ShellIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** A person at a terminal: a prompt, and the exit of each command shown. */
  interactive: boolean;
}

const processIo = (): ShellIo => ({
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: process.stdin.isTTY === true,
});

const REFUSALS: Record<number, string> = {
  401: 'a wrong or missing token: copy the whole URL from the "Rented" message',
  403: 'a wrong or missing token: copy the whole URL from the "Rented" message',
  404: 'no terminal at this URL (is it the shell rental, and has it not ended?)',
  503: 'the rental is not running (yet): try again in a minute',
};

/** Runs the session; resolves with the exit status (the last command's, 1 on an error, 130 on Ctrl-C). */
export function runShell(pageUrl: string, io: ShellIo = processIo()): Promise<number> {
  const ws = new WebSocket(terminalSocketUrl(pageUrl), { perMessageDeflate: false, handshakeTimeout: 30_000, maxPayload: 4 << 20 });
  const say = (text: string) => io.stderr.write(`${text}\n`);
  return new Promise<number>((resolve) => {
    let sent = 0;
    let exited = 0;
    let last = 0;
    let inputDone = false;
    let finished = false;
    let lines: ReturnType<typeof createInterface> | undefined;
    const finish = (status: number) => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', onSigint);
      lines?.close();
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      resolve(status);
    };
    const onSigint = () => finish(130);
    process.on('SIGINT', onSigint);
    const prompt = () => {
      if (io.interactive && exited === sent) io.stderr.write('$ ');
    };
    const maybeDone = () => {
      if (inputDone && exited === sent) finish(last);
    };

    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      say(`gridplane shell: the terminal refused the connection: HTTP ${status}${REFUSALS[status] ? ` (${REFUSALS[status]})` : ''}`);
      res.resume();
      finish(1);
    });
    ws.on('error', (error) => {
      say(`gridplane shell: ${error.message}`);
      finish(1);
    });
    ws.on('open', () => {
      if (io.interactive) say('Connected. Each line runs as a command there; Ctrl-D ends.');
      lines = createInterface({ input: io.stdin, terminal: false });
      lines.on('line', (line) => {
        if (finished || line.trim() === '') return prompt();
        sent++;
        ws.send(line);
      });
      lines.on('close', () => {
        inputDone = true;
        maybeDone();
      });
      prompt();
    });
    ws.on('message', (data, isBinary) => {
      let parsed: z.infer<typeof terminalMessage>;
      try {
        if (isBinary) throw new Error('binary');
        parsed = terminalMessage.parse(JSON.parse(String(data)));
      } catch {
        say('gridplane shell: the server sent something that is not the terminal protocol; is this the shell rental?');
        return finish(1);
      }
      if (parsed.type === 'hello') say(parsed.note);
      else if (parsed.type === 'output') (parsed.stream === 'stdout' ? io.stdout : io.stderr).write(parsed.data);
      else {
        exited++;
        last = parsed.code === null ? 1 : parsed.code & 255;
        if (parsed.code === null) say(`[${parsed.reason ?? 'ended without an exit code'}]`);
        else if (io.interactive && parsed.code !== 0) say(`[exit ${parsed.code}]`);
        prompt();
        maybeDone();
      }
    });
    ws.on('close', (code) => {
      if (finished) return;
      say(`gridplane shell: the connection closed (${code})${exited < sent ? ' before every command had finished' : ''}.`);
      finish(exited < sent ? 1 : last);
    });
  });
}
