// The deploy bundle against Cloudflare's limits: `wrangler deploy --dry-run --env production`
// as deployed (minified) and, measured in the same run, unminified; the largest packages in it;
// and `wrangler check startup` (offline: it profiles the built Worker's startup in local workerd).
//
//   npx tsx test/bench/deploy/run.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BenchRow } from '../bench-table.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const KiB = 1024;
const MiB = 1024 * KiB;
/** Cloudflare's Worker size limits after compression, and its startup-time limit. */
const FREE_GZIP = 3 * MiB;
const PAID_GZIP = 10 * MiB;
const STARTUP_LIMIT_MS = 1000;

function wrangler(args: string[]): string {
  const run = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    encoding: 'utf8',
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed:\n${output}`);
  return output;
}

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

function build(minify: boolean): { raw: number; gzip: number; packages: [string, number][] } {
  const outdir = mkdtempSync(join(tmpdir(), 'gp-bundle-bench-'));
  wrangler([
    'deploy',
    '--dry-run',
    '--env',
    'production',
    minify ? '--minify' : '--no-minify',
    '--outdir',
    outdir,
    '--metafile',
    join(outdir, 'meta.json'),
  ]);
  const code = readFileSync(join(outdir, 'index.js'));
  const meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8')) as Metafile;
  const entry = Object.values(meta.outputs).find((o) => o.entryPoint)!;
  const byPackage = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(entry.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? `(ours) ${file.split('/').slice(0, 2).join('/')}`;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return { raw: code.byteLength, gzip: gzipSync(code).byteLength, packages: [...byPackage].sort((a, b) => b[1] - a[1]) };
}

const kib = (n: number) => Math.round((n / KiB) * 10) / 10;

export function bundleBench(): BenchRow[] {
  const minified = build(true);
  const plain = build(false);
  const rows: BenchRow[] = [
    { name: 'bundle, minified (as deployed): raw', value: kib(minified.raw), unit: 'KiB' },
    {
      name: 'bundle, minified (as deployed): gzip',
      value: kib(minified.gzip),
      unit: 'KiB',
      note: `limit ${FREE_GZIP / MiB} MiB free plan (${((minified.gzip / FREE_GZIP) * 100).toFixed(1)}%), ${PAID_GZIP / MiB} MiB paid`,
    },
    { name: 'bundle, unminified: raw', value: kib(plain.raw), unit: 'KiB', note: 'same build without minify, this run' },
    {
      name: 'bundle, unminified: gzip',
      value: kib(plain.gzip),
      unit: 'KiB',
      note: `minify saves ${kib(plain.gzip - minified.gzip)} KiB gzipped`,
    },
  ];
  for (const [pkg, bytes] of minified.packages.slice(0, 6)) {
    rows.push({ name: `largest in the minified bundle: ${pkg}`, value: kib(bytes), unit: 'KiB', note: 'bytes in output, before gzip' });
  }
  const outfile = join(mkdtempSync(join(tmpdir(), 'gp-startup-')), 'startup.cpuprofile');
  const startup = wrangler(['check', 'startup', '--env', 'production', '--outfile', outfile]);
  const active = /Active:\s*([0-9.]+)\s*ms(?:\s*\(including\s*([0-9.]+)\s*ms garbage collection\))?/.exec(startup);
  if (!active) throw new Error(`wrangler check startup printed no "Active" time:\n${startup}`);
  rows.push({
    name: 'startup CPU (wrangler check startup, local workerd)',
    value: Number(active[1]),
    unit: 'ms',
    note: `limit ${STARTUP_LIMIT_MS} ms; ${active[2] ?? '?'} ms of it GC; this machine's CPU, not Cloudflare's`,
  });
  return rows;
}
