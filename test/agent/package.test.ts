// The published agent as an operator gets it: `npm run agent:build`'s bundle, packed with
// `npm pack`, installed from the tarball into an empty directory with no registry (an unreachable
// one, an empty cache, --offline), and run on the machine's Node 20 — no repository involved.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../edge-agent/src/version.ts';
import { OWNER, tempDir } from './helpers/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The machine's Node 20 when there is one (the oldest Node the package supports), else this one. */
const NODE = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
/** Only the chosen node, npm and the system tools on PATH: the shebang's `env node` finds NODE. */
const PATH = [...new Set([dirname(NODE), '/usr/local/bin', '/usr/bin', '/bin'])].join(':');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** npm with no way to reach a registry and no cache to fall back on. */
function npm(args: string[], cwd: string, work: string): Promise<Result> {
  return exec(
    'npm',
    [...args, '--offline', '--no-audit', '--no-fund', '--registry', 'http://127.0.0.1:9/', '--cache', join(work, 'npm-cache')],
    {
      cwd,
      env: { PATH, HOME: work, npm_config_update_notifier: 'false' },
    },
  );
}

let work: string;
let tarball: string;
let packed: { files: { path: string }[]; name: string; version: string };

beforeAll(async () => {
  console.log(`package test: running the installed agent on ${NODE} (${(await exec(NODE, ['--version'])).stdout.trim()})`);
  work = await tempDir('gridplane-agent-package-');
  // Stage the package as the repository holds it, with the bundle built into it.
  const stage = join(work, 'stage');
  await mkdir(stage);
  await copyFile(join(ROOT, 'edge-agent/package.json'), join(stage, 'package.json'));
  await copyFile(join(ROOT, 'edge-agent/README.md'), join(stage, 'README.md'));
  const build = await exec(process.execPath, ['edge-agent/scripts/build.ts', '--outdir', join(stage, 'dist')]);
  expect(build.stderr).toBe('');
  expect(build.code).toBe(0);
  const pack = await npm(['pack', '--json', '--pack-destination', work], stage, work);
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
  tarball = join(work, `${packed.name}-${packed.version}.tgz`);
}, 180_000);

describe('the gridplane-agent package', () => {
  it('holds the bundle, its licences, the README and a package.json with no dependencies', async () => {
    expect(packed.name).toBe('gridplane-agent');
    expect(packed.version).toBe(AGENT_VERSION);
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      'README.md',
      'dist/THIRD-PARTY-LICENSES.txt',
      'dist/gridplane-agent.mjs',
      'package.json',
    ]);
    const pkg = JSON.parse(await readFile(join(ROOT, 'edge-agent/package.json'), 'utf8')) as Record<string, any>;
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.bin).toEqual({ 'gridplane-agent': 'dist/gridplane-agent.mjs' });
    expect(pkg.engines.node).toBe('>=20.20');
    const licences = await readFile(join(work, 'stage/dist/THIRD-PARTY-LICENSES.txt'), 'utf8');
    expect(licences).toMatch(/^ws 8\.\d+\.\d+ \(MIT\)/m);
    expect(licences).toMatch(/^zod 4\.\d+\.\d+ \(MIT\)/m);
    // Everything is inside: no import of a package, only node: builtins.
    const bundle = await readFile(join(work, 'stage/dist/gridplane-agent.mjs'), 'utf8');
    const imports = [...bundle.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]);
    expect(imports.every((i) => i!.startsWith('node:'))).toBe(true);
  });

  it('installs from the tarball with no registry and runs help, init, doctor on Node 20', async () => {
    const app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'operator-host', private: true }));
    const install = await npm(['install', tarball], app, work);
    expect(install.code, install.stderr).toBe(0);
    const bin = join(app, 'node_modules/.bin/gridplane-agent');
    const env = { PATH, HOME: work };

    const help = await exec(bin, ['--help'], { cwd: app, env });
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    for (const command of ['init', 'register', 'run', 'status', 'doctor', 'service'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));

    const home = join(work, 'operator-home');
    const init = await exec(
      bin,
      [
        'init',
        '--home',
        home,
        '--url',
        'http://127.0.0.1:9',
        '--owner',
        OWNER,
        '--lat',
        '35.68',
        '--lon',
        '139.69',
        '--country',
        'JP',
        '--price-per-gpu-hour',
        '1.250000',
        '--simulate-gpus',
        'RTX 4090x1',
        '--json',
      ],
      { cwd: app, env },
    );
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout.trim().split('\n')[0]!)).toMatchObject({
      nodeId: expect.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/),
    });
    expect((await stat(join(home, 'device-key.pem'))).mode & 0o777).toBe(0o600);

    // doctor from the package, on this Node: the key is fine, the control plane is not there.
    const doctor = await exec(bin, ['doctor', '--home', home, '--json'], { cwd: app, env });
    expect(doctor.code).toBe(1);
    const checks = Object.fromEntries(
      doctor.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id?: string; status?: string; detail?: string })
        .filter((c) => c.id)
        .map((c) => [c.id, c]),
    );
    expect(checks.node).toMatchObject({
      status: 'ok',
      detail: `Node.js ${(await exec(NODE, ['--version'])).stdout.trim().replace(/^v/, '')}`,
    });
    expect(checks.key).toMatchObject({ status: 'ok' });
    expect(checks.reach).toMatchObject({ status: 'fail', detail: expect.stringContaining('127.0.0.1:9') });

    // npx finds the installed copy without a registry.
    const npx = await exec('npx', ['--offline', '--no', '--', 'gridplane-agent', '--version'], {
      cwd: app,
      env: { ...env, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' },
    });
    expect(npx.stderr).toBe('');
    expect(npx.stdout.trim()).toBe(AGENT_VERSION);
  });

  it('installs globally from the tarball', async () => {
    const prefix = join(work, 'global');
    const install = await npm(['install', '--global', '--prefix', prefix, tarball], work, work);
    expect(install.code, install.stderr).toBe(0);
    const run = await exec(join(prefix, 'bin/gridplane-agent'), ['--version'], { env: { PATH, HOME: work } });
    expect(run.stdout.trim()).toBe(AGENT_VERSION);
    expect(run.code).toBe(0);
  });
});
