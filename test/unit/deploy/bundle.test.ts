// The deploy bundle, built as `npm run deploy` builds it (`wrangler deploy --dry-run`, the
// production environment), so `npm test` fails when the Worker stops building or outgrows what
// Cloudflare accepts, and when a trim is undone. Sizes themselves are reported by the bench
// (`npm run bench`, "Deploy bundle"), not asserted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Cloudflare's Worker size limit after compression on the free plan (the paid plan's is 10 MiB). */
const FREE_PLAN_GZIP_LIMIT = 3 * 1024 * 1024;

interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

let outdir: string;
let build: { status: number | null; output: string };
let inputs: string[];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'gp-bundle-'));
  const wrangler = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
  const run = spawnSync(
    process.execPath,
    [wrangler, 'deploy', '--dry-run', '--env', 'production', '--outdir', outdir, '--metafile', join(outdir, 'meta.json')],
    {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      encoding: 'utf8',
    },
  );
  build = { status: run.status, output: `${run.stdout}${run.stderr}` };
  const meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8')) as Metafile;
  const entry = Object.values(meta.outputs).find((o) => o.entryPoint);
  inputs = Object.keys(entry?.inputs ?? {}).filter((f) => entry!.inputs[f]!.bytesInOutput > 0);
}, 120_000);

describe('deploy bundle (wrangler deploy --dry-run --env production)', () => {
  it('builds, offline, with every binding the Worker needs', () => {
    expect(build.status, build.output).toBe(0);
    for (const binding of [
      'env.DB',
      'env.ALERT_QUEUE',
      'env.NODE_SHARD',
      'env.ALERT_CHAT',
      'env.RATE_LIMIT_ADDRESS',
      'env.RATE_LIMIT_ACCOUNT',
      'env.RATE_LIMIT_NODE',
      'env.RATE_LIMIT_JOB_EVENTS',
    ]) {
      expect(build.output).toContain(binding);
    }
    expect(existsSync(join(outdir, 'index.js'))).toBe(true);
  });

  it("fits Cloudflare's size limit, the free plan's included", () => {
    const gzipped = gzipSync(readFileSync(join(outdir, 'index.js'))).byteLength;
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThan(FREE_PLAN_GZIP_LIMIT);
  });

  it("holds no zod locale but English: every bundled file imports zod as `import * as z from 'zod'`", () => {
    // `import { z } from 'zod'` takes zod's whole namespace object, which holds every locale
    // (about 360 KiB unminified); a namespace import lets the bundler keep only what is used.
    const locales = inputs.filter((f) => /node_modules\/zod\/.*locales\/(?!en\.js$)[^/]+\.js$/.test(f));
    const namedImports = inputs
      .filter((f) => !f.includes('node_modules') && /\.ts$/.test(f))
      .filter((f) => /import\s*\{\s*z\s*\}\s*from\s*['"]zod['"]/.test(readFileSync(resolve(ROOT, f), 'utf8')));
    expect(namedImports, "change these to `import * as z from 'zod'`").toEqual([]);
    expect(locales).toEqual([]);
  });

  it('holds no discord.js (the Worker and the command registration need only @discordjs/rest)', () => {
    expect(inputs.filter((f) => /node_modules\/discord\.js\//.test(f))).toEqual([]);
  });
});
