// Closing an epoch at 1k / 10k / 100k eligible nodes on a real local D1 (wrangler's platform
// proxy: the same SQLite-backed D1 `wrangler dev` runs), seeded directly with set-based SQL: every node with
// 1–4 RTX 4090s, its operator's stake and two delegations, in 500 regional cells. Each
// invocation gets the cron's budget; the figure is the D1 statements spent (counted at the
// binding) and how many cron invocations and how long the close took.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/d1';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { getPlatformProxy } from 'wrangler';
import * as schema from '../../../db/schema.ts';
import type { Db } from '../../../workers/app-env.ts';
import { getConfig } from '../../../workers/config.ts';
import type { Env } from '../../../workers/env.ts';
import { closeDueEpochs } from '../../../workers/rewards/close-epoch.ts';
import type { BenchRow } from '../bench-table.ts';

const MIGRATIONS = fileURLToPath(new URL('../../../db/migrations/', import.meta.url));
const GENESIS = 1_767_225_600_000;
const HOUR = 3_600_000;

async function migrate(db: D1Database): Promise<void> {
  const files = (await readdir(MIGRATIONS)).filter((f) => f.endsWith('.sql')).sort();
  for (const f of files) {
    const statements = (await readFile(join(MIGRATIONS, f), 'utf8'))
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
}

async function seed(db: D1Database, nodes: number): Promise<void> {
  const operators = Math.ceil(nodes / 4);
  const delegators = Math.max(10, Math.ceil(nodes / 5));
  const seq = (n: number) => `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n - 1})`;
  await db.batch([
    db.prepare(`${seq(operators)} INSERT INTO accounts (id, kind, wallet, balance, created_at, updated_at)
      SELECT 'acc_' || printf('%032x', i), 'user', printf('owner%07d', i), 0, 0, 0 FROM seq`),
    db.prepare(`${seq(delegators)} INSERT INTO accounts (id, kind, wallet, balance, created_at, updated_at)
      SELECT 'acc_' || printf('%032x', 100000000 + i), 'user', printf('deleg%07d', i), 0, 0, 0 FROM seq`),
    db.prepare(`${seq(nodes)} INSERT INTO nodes (id, owner, name, status, simulated, lat, lon, country, geo_cell, price_per_gpu_hour, agent_version,
        registered_at, updated_at, last_seen_at, online_ms, stake_total, verified_at, eligible)
      SELECT printf('node%07d', i), printf('owner%07d', i / 4), 'n', 'online', 0, 0, 0, 'US', printf('cell%03d', i % 500), 1000000, '0.1.0',
        0, 0, 0, ${HOUR} - (i % 7) * 60000, 0, 1, 1 FROM seq`),
    db.prepare(`INSERT INTO node_gpus (node_id, model, canonical_model, vram_mb, count, simulated, geo_cell)
      SELECT id, 'NVIDIA GeForce RTX 4090', 'RTX 4090', 24564, 1 + (rowid % 4), 0, geo_cell FROM nodes`),
    db.prepare(`INSERT INTO stakes (account_id, node_id, amount, created_at, updated_at)
      SELECT 'acc_' || printf('%032x', (rowid - 1) / 4), id, 800000000, 0, 0 FROM nodes`),
    db.prepare(`INSERT INTO stakes (account_id, node_id, amount, created_at, updated_at)
      SELECT 'acc_' || printf('%032x', 100000000 + (rowid * 7) % ${delegators}), id, 100000000 + rowid % 1000, 0, 0 FROM nodes`),
    db.prepare(`INSERT INTO stakes (account_id, node_id, amount, created_at, updated_at)
      SELECT 'acc_' || printf('%032x', 100000000 + (rowid * 13 + 1) % ${delegators}), id, 50000000, 0, 0 FROM nodes WHERE true
      ON CONFLICT DO NOTHING`),
  ]);
}

/** Counts every statement that reaches D1: one per run/all/first/raw, one per statement in a batch. */
function counting(db: D1Database): { db: D1Database; count: () => number } {
  let n = 0;
  const unwrap = new WeakMap<object, D1PreparedStatement>();
  const wrapStatement = (s: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(s, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args));
        if (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw') {
          return (...args: unknown[]) => {
            n++;
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    unwrap.set(proxy, s);
    return proxy;
  };
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (q: string) => wrapStatement(target.prepare(q));
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          n += statements.length;
          return target.batch(statements.map((s) => unwrap.get(s) ?? s));
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: proxy, count: () => n };
}

export async function epochCloseBench(sizes = [1_000, 10_000, 100_000]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    // A throwaway wrangler config with only the D1 binding, persisted in a temp directory.
    const dir = await mkdtemp(join(tmpdir(), 'gridplane-epoch-bench-'));
    await writeFile(
      join(dir, 'wrangler.toml'),
      'name = "bench"\ncompatibility_date = "2026-11-01"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "bench"\ndatabase_id = "00000000-0000-0000-0000-000000000001"\n',
    );
    const proxy = await getPlatformProxy<{ DB: D1Database }>({
      configPath: join(dir, 'wrangler.toml'),
      persist: { path: join(dir, 'state') },
    });
    try {
      const raw = proxy.env.DB;
      await migrate(raw);
      await seed(raw, size);
      const counted = counting(raw);
      const config = getConfig({ ENVIRONMENT: 'production' } as unknown as Env);
      const db = drizzle(counted.db, { schema }) as unknown as Db;
      const nowMs = GENESIS + 101 * HOUR + 1;
      const started = performance.now();
      let invocations = 0;
      let maxPerInvocation = 0;
      for (;;) {
        const before = counted.count();
        let last = performance.now();
        let lastStep = '';
        const report = await closeDueEpochs(db, config, {
          nowMs,
          workSource: async () => [],
          beforeQuery: (step) => {
            if (process.env.BENCH_STEPS && step !== lastStep) {
              console.error(`${lastStep} ${Math.round(performance.now() - last)} ms`);
              last = performance.now();
              lastStep = step;
            }
          },
        });
        invocations++;
        maxPerInvocation = Math.max(maxPerInvocation, counted.count() - before);
        if (report.closed.length > 0 || invocations > 50) break;
      }
      const ms = performance.now() - started;
      const epoch = await raw
        .prepare('SELECT nodes, minted, credit_chunks FROM epochs WHERE epoch = 100')
        .first<{ nodes: number; minted: number; credit_chunks: number }>();
      const pool = await raw.prepare(`SELECT balance FROM accounts WHERE id = 'system:reward_pool'`).first<{ balance: number }>();
      const label = size.toLocaleString('en-US');
      rows.push({
        name: `close epoch, ${label} nodes: D1 statements`,
        value: counted.count(),
        unit: 'queries',
        note: `limit 1,000 per invocation; budget ${config.CLOSE_QUERY_BUDGET}`,
      });
      rows.push({ name: `close epoch, ${label} nodes: max per invocation`, value: maxPerInvocation, unit: 'queries' });
      rows.push({
        name: `close epoch, ${label} nodes: cron invocations`,
        value: invocations,
        unit: 'runs',
        note: `${epoch?.nodes} nodes rewarded, ${epoch?.credit_chunks} credit chunks, pool left ${pool?.balance}`,
      });
      rows.push({
        name: `close epoch, ${label} nodes: wall time`,
        value: Math.round(ms),
        unit: 'ms',
        note: 'local D1; includes every invocation',
      });
    } finally {
      await proxy.dispose();
    }
  }
  return rows;
}
