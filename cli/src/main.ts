// Over 300 lines: the renters' CLI: one command table and its dispatch, each command a few lines over the typed client (follow-up: one file per command group, as the agent's cli does).
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { GridplaneClient, GridplaneError, type Operations } from '../../clients/typescript/gridplane-client.ts';
import { configPath, readConfig, removeConfig, resolveSettings, writeConfig } from './config.ts';
import { parseCoordinate, parseDuration, parseEnv, parseIntOption, UsageError } from './parse.ts';
import { qrText } from './qr-text.ts';
import { runShell } from './shell.ts';

// `gridplane`: the renters' command-line tool, built on the typed client. Commands are grouped
// by what a renter does: log in, see the balance, deposit, quote, run a job and follow it, read
// logs, cancel, list jobs. Human output goes to stdout, progress and errors to stderr; --json
// prints the API's answers instead (one JSON document, or one per line while following).

type Job = Operations['getJob']['response'];
type LogsPage = Operations['getJobLogs']['response'];

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);
const POLL_MS = Number(process.env.GRIDPLANE_POLL_MS ?? 1000);

const HELP = `gridplane: rent GPUs on the gridplane network

Usage: gridplane <command> [options]

Commands:
  login [--api-key KEY]     check an API key and save it (reads the key from stdin when not given)
  logout                    forget the saved key
  balance                   the account's balance
  deposit [--amount N]      a Solana Pay link and QR code that credit this account
  deposit check REFERENCE   look for payments under a reference now
  quote [job options]       nodes that could run a job, best first, with their prices
  run [job options] --image IMAGE [--env NAME=value]... [-- COMMAND...]
                            submit a job, stream its logs until it ends, print the bill
  logs JOB [-f]             a job's output; -f follows it until the job ends
  cancel JOB                cancel a job: what it used is billed, the rest refunded
  jobs [--status S] [--limit N]
                            the account's jobs, newest first
  shell URL                 a rented shell from this terminal: give the terminal URL the "Rented"
                            message shows; each line you type runs there (the SIMULATED stand-in's
                            web terminal; on a Docker host, open Jupyter's terminal in the browser)

Job options:
  --gpu MODEL               GPU model, e.g. "RTX 4090" (any model when left out)
  --count N                 GPUs (default 1)
  --min-vram MB             at least this much memory per GPU
  --duration D              the longest the job may run: 90s, 10m, 2h (default 10m)
  --max-price TOKENS        the most to pay per GPU-hour
  --lat L --lon L           where you are, for the nearest node (the server's edge location otherwise)

Options for every command:
  --url URL                 the control plane (GRIDPLANE_URL, the saved one, or ${'http://127.0.0.1:8787'})
  --api-key KEY             the API key (GRIDPLANE_API_KEY, or the one saved by login)
  --json                    print the API's JSON answers
  -h, --help                this text

Exit status: 0 on success; for run, the job's own exit code when it failed (1 when it had none);
1 on an error; 2 on a usage error; 130 when interrupted.`;

const OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  follow: { type: 'boolean', short: 'f' },
  amount: { type: 'string' },
  gpu: { type: 'string' },
  count: { type: 'string' },
  'min-vram': { type: 'string' },
  duration: { type: 'string' },
  'max-price': { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  image: { type: 'string' },
  env: { type: 'string', multiple: true },
  status: { type: 'string' },
  limit: { type: 'string' },
  'no-qr': { type: 'boolean' },
} as const;

interface Io {
  out(text: string): void;
  err(text: string): void;
}
const stdio: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`gridplane: ${(error as Error).message}\nRun gridplane --help for the commands and options.`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.out(HELP);
    return command || values.help ? 0 : 2;
  }
  const path = configPath();
  try {
    const stored = await readConfig(path);
    const settings = resolveSettings({ url: values.url, apiKey: values['api-key'] }, process.env, stored);
    const client = new GridplaneClient({ baseUrl: settings.url, apiKey: settings.apiKey, userAgent: 'gridplane-cli' });
    const json = values.json === true;
    const print = (value: unknown) => io.out(JSON.stringify(value, null, json ? 2 : undefined));
    const needKey = () => {
      if (!settings.apiKey) throw new UsageError('No API key: run gridplane login, or pass --api-key or GRIDPLANE_API_KEY.');
    };

    switch (command) {
      case 'login': {
        const key = values['api-key'] ?? process.env.GRIDPLANE_API_KEY ?? (await readStdinKey());
        if (!key) throw new UsageError('login: give the key with --api-key KEY or on standard input.');
        const me = await new GridplaneClient({ baseUrl: settings.url, apiKey: key }).call('getMe');
        await writeConfig(path, { url: settings.url, apiKey: key });
        if (json) print({ accountId: me.id, wallet: me.wallet, url: settings.url, configPath: path });
        else
          io.out(
            `Logged in to ${settings.url} as ${me.id} (wallet ${me.wallet}); balance ${me.balance} tokens.\nThe key is saved in ${path} (readable only by you).`,
          );
        return 0;
      }
      case 'logout': {
        await removeConfig(path);
        if (json) print({ loggedOut: true, configPath: path });
        else io.out(`Removed ${path}. The key itself still works until you revoke it (DELETE /v1/accounts/me/api-keys/{prefix}).`);
        return 0;
      }
      case 'balance': {
        needKey();
        const balance = await client.call('getBalance');
        if (json) print(balance);
        else io.out(`${balance.balance} tokens (account ${balance.accountId})`);
        return 0;
      }
      case 'deposit': {
        needKey();
        if (rest[0] === 'check') {
          const reference = rest[1];
          if (!reference) throw new UsageError('deposit check: give the reference that deposit printed.');
          const result = await client.call('checkDeposit', { params: { reference } });
          if (json) print(result);
          else
            io.out(
              `Reference ${result.reference}: ${result.status}; credited now ${result.creditedNow} tokens; ${result.deposits.length} deposit(s) recorded under it.`,
            );
          return 0;
        }
        const request = await client.call('createDeposit', { body: values.amount === undefined ? {} : { amount: values.amount } });
        if (json) {
          print(request);
          return 0;
        }
        io.out(
          `Pay ${request.amount === null ? 'any amount of tokens' : `${request.amount} tokens`} with a Solana Pay wallet:\n\n  ${request.url}\n`,
        );
        if (!values['no-qr']) io.out(`${qrText(request.url)}\n`);
        io.out(
          `Reference ${request.reference}${request.expiresAt ? `, open until ${request.expiresAt}` : ''}.\n` +
            `Credited once the payment is final on chain (the control plane checks every minute; gridplane deposit check ${request.reference} checks now).`,
        );
        return 0;
      }
      case 'quote': {
        const quote = await client.call('createQuote', {
          body: { ...jobShape(values), limit: parseIntOption(values.limit, '--limit', 1) },
        });
        if (json) print(quote);
        else if (quote.candidates.length === 0)
          io.out('No node can take this job now. Try another GPU model, fewer GPUs or a higher --max-price.');
        else {
          io.out(
            table(
              ['node', 'price/GPU-hour', 'est. RTT', 'where'],
              quote.candidates.map((c) => [
                c.nodeId,
                c.pricePerGpuHour,
                `${Math.round(c.estRttMs)} ms`,
                `${c.location.country} (${c.location.lat}, ${c.location.lon})`,
              ]),
            ),
          );
        }
        return 0;
      }
      case 'run': {
        needKey();
        if (!values.image) throw new UsageError('run: --image IMAGE is required (a public image such as python:3.12-slim).');
        const body = { ...jobShape(values), image: values.image, command: rest, env: parseEnv(values.env ?? []) };
        // A retry of the same submission (a dropped answer) must not start a second job.
        const job = await client.call('submitJob', { body, idempotencyKey: `cli-${randomUUID()}` });
        // One JSON document per line while following, so each event can be read as it arrives.
        if (json) io.out(JSON.stringify({ event: 'submitted', job }));
        else io.err(`Job ${job.id} placed on node ${job.nodeId ?? '(queued)'}; ${job.escrow} tokens held in escrow.`);
        const final = await follow(client, job.id, io, json);
        if (final === 'interrupted') return 130;
        if (json) io.out(JSON.stringify({ event: 'finished', job: final }));
        else io.err(billText(final));
        if (final.status === 'succeeded') return 0;
        return final.exitCode !== null && final.exitCode > 0 && final.exitCode < 256 ? final.exitCode : 1;
      }
      case 'logs': {
        needKey();
        const id = jobArg(rest, 'logs');
        if (values.follow) {
          const final = await follow(client, id, io, json);
          if (final === 'interrupted') return 130;
          if (!json) io.err(`Job ${final.id} ${final.status}.`);
          return 0;
        }
        let after = -1;
        for (;;) {
          const page = await client.call('getJobLogs', { params: { id }, query: { after, limit: 1000 } });
          for (const line of page.logs) printLog(io, line, json);
          if (page.logs.length < 1000) return 0;
          after = page.next;
        }
      }
      case 'cancel': {
        needKey();
        const job = await client.call('cancelJob', { params: { id: jobArg(rest, 'cancel') } });
        if (json) print(job);
        else io.out(`Job ${job.id} ${job.status}.\n${billText(job)}`);
        return 0;
      }
      case 'jobs': {
        needKey();
        const status = values.status as Operations['listJobs']['query']['status'];
        const page = await client.call('listJobs', { query: { status, limit: parseIntOption(values.limit, '--limit', 1) } });
        if (json) print(page);
        else if (page.jobs.length === 0) io.out('No jobs yet.');
        else
          io.out(
            table(
              ['job', 'status', 'GPUs', 'image', 'created', 'paid'],
              page.jobs.map((j) => [j.id, j.status, String(j.gpu.count), j.image, j.createdAt ?? '', j.billing?.captured ?? '-']),
            ),
          );
        return 0;
      }
      case 'shell': {
        if (!rest[0]) throw new UsageError('shell: give the terminal URL the "Rented" message shows (…/terminals/1?token=…).');
        return await runShell(rest[0]);
      }
      default:
        throw new UsageError(`"${command}" is not a command.`);
    }
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: Io): number {
  if (error instanceof UsageError) {
    io.err(`gridplane: ${error.message}\nRun gridplane --help for the commands and options.`);
    return 2;
  }
  if (error instanceof GridplaneError) {
    const hint = HINTS[error.code];
    io.err(`gridplane: ${error.message} (${error.code}${error.status ? `, HTTP ${error.status}` : ''})${hint ? `\n${hint}` : ''}`);
    return 1;
  }
  io.err(`gridplane: ${(error as Error).message}`);
  return 1;
}

const HINTS: Record<string, string> = {
  unauthorized: 'The API key is missing, unknown or revoked: sign in with your wallet for a new one and run gridplane login.',
  client_location_required: 'Say where you are with --lat and --lon (this control plane cannot tell from the request).',
  insufficient_funds: 'Top the balance up with gridplane deposit.',
  no_capacity: 'No node can take this job now: gridplane quote shows what is available.',
  unreachable: 'Is the control plane running, and is --url (or GRIDPLANE_URL) right?',
};

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The quote fields of a job, from the job options. */
function jobShape(values: Values) {
  const lat = parseCoordinate(values.lat, '--lat', 90);
  const lon = parseCoordinate(values.lon, '--lon', 180);
  if ((lat === undefined) !== (lon === undefined)) throw new UsageError('--lat and --lon go together.');
  return {
    gpu: {
      ...(values.gpu ? { model: values.gpu } : {}),
      ...(values['min-vram'] ? { minVramMb: parseIntOption(values['min-vram'], '--min-vram', 0) } : {}),
      count: parseIntOption(values.count, '--count', 1) ?? 1,
    },
    durationS: parseDuration(values.duration ?? '10m'),
    ...(values['max-price'] ? { maxPricePerGpuHour: values['max-price'] } : {}),
    ...(lat !== undefined && lon !== undefined ? { client: { lat, lon } } : {}),
  };
}

function jobArg(rest: string[], command: string): string {
  const id = rest[0];
  if (!id) throw new UsageError(`${command}: give the job id (gridplane jobs lists them).`);
  return id;
}

/**
 * Prints a job's logs as they arrive until it ends; status changes go to stderr. The logs route
 * reads the status before the lines, and an agent sends every line before the job's end, so
 * once a page says the job has ended and holds less than a full page, nothing is left to read.
 */
async function follow(client: GridplaneClient, id: string, io: Io, json: boolean): Promise<Job | 'interrupted'> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    let after = -1;
    let status = '';
    for (;;) {
      let page: LogsPage;
      try {
        page = await client.call('getJobLogs', { params: { id }, query: { after, limit: 1000 }, signal: stop.signal });
      } catch (error) {
        if (stop.signal.aborted) break;
        throw error;
      }
      if (page.status !== status) {
        status = page.status;
        if (json) io.out(JSON.stringify({ event: 'status', jobId: id, status }));
        else io.err(`· ${status}`);
      }
      for (const line of page.logs) printLog(io, line, json);
      after = page.next;
      if (TERMINAL.has(page.status) && page.logs.length < 1000) return await client.call('getJob', { params: { id } });
      if (page.logs.length === 1000) continue;
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), POLL_MS);
        stop.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve(false);
          },
          { once: true },
        );
      });
      if (!waited) break;
    }
    io.err(`Stopped following; job ${id} goes on. Follow it again with gridplane logs -f ${id}, or stop it with gridplane cancel ${id}.`);
    return 'interrupted';
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function printLog(io: Io, line: LogsPage['logs'][number], json: boolean): void {
  if (json) io.out(JSON.stringify({ event: 'log', ...line }));
  else if (line.stream === 'stderr') process.stderr.write(line.data.endsWith('\n') ? line.data : `${line.data}\n`);
  else io.out(line.data.replace(/\n$/, ''));
}

export function billText(job: Job): string {
  const b = job.billing;
  if (!b) return `No bill yet: job ${job.id} is ${job.status}; ${job.escrow} tokens held in escrow.`;
  return (
    `Bill for ${job.id} (${job.status}${job.exitCode !== null ? `, exit code ${job.exitCode}` : ''}): ` +
    `${b.billedGpuSeconds ?? 0} GPU-seconds at ${job.pricePerGpuHour ?? '?'} per GPU-hour: paid ${b.captured} tokens ` +
    `(${b.operator} to the node's operator, ${b.fee} protocol fee), refunded ${b.refunded} of the ${job.escrow} held.`
  );
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

async function readStdinKey(): Promise<string | undefined> {
  if (process.stdin.isTTY) {
    process.stderr.write('API key: ');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && Buffer.concat(chunks).includes(10)) break;
  }
  const key = Buffer.concat(chunks).toString('utf8').trim();
  return key || undefined;
}
