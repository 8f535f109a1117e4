// Inference endpoints on the real local stack, for the endpoints end-to-end test and bench: the
// replica fixture, the renter's calls, the caller's streamed requests, and the rows of the stack's
// own D1 that no route shows (billed milliseconds, receipts, ledger lines per replica).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { repoRoot, type LocalStack } from '../support/local-stack.ts';
import type { AgentProcess } from './agent-process.ts';
import type { E2eRenter } from './jobs-helpers.ts';

/** The replica's server (a Node script; the process runtime runs it with PORT set). */
export const REPLICA_FIXTURE = join(repoRoot, 'test/e2e/fixtures/sse-replica.mjs');

export const PARIS = { lat: 48.86, lon: 2.35 };
export const TOKYO = { lat: 35.68, lon: 139.69 };
export const NEW_YORK = { lat: 40.71, lon: -74.01 };
export const LONDON = { lat: 51.51, lon: -0.13 };

export function endpointRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'sse-tokens',
    image: 'ghcr.io/gridplane/sse-replica:1',
    command: [process.execPath, REPLICA_FIXTURE],
    port: 8000,
    healthPath: '/health',
    gpu: { model: 'RTX 4090', count: 1 },
    maxPricePerGpuHour: '2.000000',
    ...overrides,
  };
}

export interface ReplicaView {
  id: string;
  nodeId: string;
  state: string;
  ready: boolean;
  reason: string | null;
}

export async function endpointOf(renter: E2eRenter, id: string): Promise<Record<string, any> & { replicaSet: ReplicaView[] }> {
  const res = await renter.call('GET', `/v1/endpoints/${id}`);
  if (res.status !== 200) throw new Error(`GET endpoint: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any> & { replicaSet: ReplicaView[] };
}

/** Runs the cron and checks, about once a second, until `check` gives a value. */
export async function tickUntil<T>(stack: LocalStack, what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      await stack.runCron();
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** replica id → its loopback port, from the agent's own `replica_ready` log lines (--json). */
export function replicaPorts(agent: AgentProcess): Map<string, number> {
  const ports = new Map<string, number>();
  for (const line of agent.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { event?: string; replica?: string; port?: number };
      if (rec.event === 'replica_ready' && rec.replica && rec.port) ports.set(rec.replica, rec.port);
    } catch {
      // a partial line
    }
  }
  return ports;
}

export interface StreamResult {
  status: number;
  /** The replica that answered (its fixture's `x-replica-port`). */
  port: number | null;
  /** Token events as they arrived: the fixture's send time and ours. */
  chunks: { i: number; sentAt: number; receivedAt: number }[];
  /** `[DONE]` arrived and the body ended cleanly. */
  done: boolean;
  /** The body broke off (or the request failed): what the caller saw. */
  error: string | null;
  startedAt: number;
  endedAt: number;
  body: string;
}

export interface CallerOptions {
  key?: string;
  location?: { lat: number; lon: number };
  signal?: AbortSignal;
  /** Called when the response head arrives, with the replica's port. */
  onHead?: (port: number | null) => void;
  /** Called with each token event as it arrives. */
  onChunk?: (chunk: StreamResult['chunks'][number]) => void;
}

/** One streamed request to `url` (the endpoint URL or the replica itself), read event by event. */
export async function streamTokens(url: string, options: CallerOptions = {}): Promise<StreamResult> {
  const startedAt = Date.now();
  const result: StreamResult = { status: 0, port: null, chunks: [], done: false, error: null, startedAt, endedAt: 0, body: '' };
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.location) headers['x-gridplane-client-location'] = `${options.location.lat},${options.location.lon}`;
  try {
    const res = await fetch(url, { headers, signal: options.signal });
    result.status = res.status;
    const port = res.headers.get('x-replica-port');
    result.port = port === null ? null : Number(port);
    options.onHead?.(result.port);
    if (!res.body) throw new Error('no body');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      result.body += value;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.startsWith('data: ') ? event.slice(6) : '';
        if (data === '[DONE]') result.done = true;
        else if (data.startsWith('{')) {
          const token = JSON.parse(data) as { i: number; sentAt: number };
          const chunk = { i: token.i, sentAt: token.sentAt, receivedAt: Date.now() };
          result.chunks.push(chunk);
          options.onChunk?.(chunk);
        }
      }
    }
  } catch (err) {
    result.error = err instanceof Error ? `${err.name}: ${err.message}${err.cause ? ` (${String(err.cause)})` : ''}` : String(err);
    result.done = false;
  }
  result.endedAt = Date.now();
  return result;
}

export const endpointUrl = (stack: LocalStack, id: string, path: string) => `${stack.url}/e/${id}${path}`;

/** The stack's local D1 (read-only), to check what no route shows: billed ms, receipts, ledger lines. */
export function openStackDb(stack: LocalStack): DatabaseSync {
  const dir = join(stack.stateDir, 'v3/d1/miniflare-D1DatabaseObject');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sqlite'))) {
    const db = new DatabaseSync(join(dir, file), { readOnly: true });
    const has = db.prepare("SELECT 1 AS ok FROM sqlite_master WHERE type = 'table' AND name = 'endpoint_replicas'").get();
    if (has) return db;
    db.close();
  }
  throw new Error(`no D1 database with endpoint_replicas under ${dir}`);
}

export interface BilledReplica {
  id: string;
  node_id: string;
  state: string;
  reason: string | null;
  price_per_gpu_hour: number;
  gpu_count: number;
  ready_ms: number;
  receipt_ready_ms: number;
  billed_ms: number;
  billed_amount: number;
  billed_fee: number;
  stopped_at: number | null;
}

export function replicaRows(db: DatabaseSync, endpointId: string): BilledReplica[] {
  return db
    .prepare(
      'SELECT id, node_id, state, reason, price_per_gpu_hour, gpu_count, ready_ms, receipt_ready_ms, billed_ms, billed_amount, billed_fee, stopped_at FROM endpoint_replicas WHERE endpoint_id = ? ORDER BY placed_at',
    )
    .all(endpointId) as unknown as BilledReplica[];
}

/** Ledger lines of the captures that billed one replica, summed per account. */
export function capturesOf(db: DatabaseSync, replicaId: string): Map<string, number> {
  const rows = db
    .prepare(
      "SELECT e.account_id AS account, sum(e.amount) AS amount FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id WHERE t.kind = 'capture' AND json_extract(t.meta, '$.replicaId') = ? GROUP BY e.account_id",
    )
    .all(replicaId) as { account: string; amount: number }[];
  return new Map(rows.map((r) => [r.account, Number(r.amount)]));
}

/** SIGKILL, as a crash or a pulled plug: no last messages, the socket just drops. */
export async function crash(agent: AgentProcess): Promise<void> {
  await agent.stop('SIGKILL');
}
