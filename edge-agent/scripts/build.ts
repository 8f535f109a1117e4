// `npm run agent:build`: bundles the agent (its sources, the workers/ files it shares with the
// control plane, zod and ws) into one file, edge-agent/dist/gridplane-agent.mjs, so the published
// package `gridplane-agent` has no runtime dependencies and needs no repository: an operator
// installs the tarball and runs it on Node >= 20.20. Run with Node 22 (npm scripts use it).
//
//   node edge-agent/scripts/build.ts [--outdir DIR]
import { build, version as esbuildVersion } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const AGENT_DIR = resolve(import.meta.dirname, '..');
const ROOT = resolve(AGENT_DIR, '..');
export const BUNDLE_NAME = 'gridplane-agent.mjs';

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  devDependencies?: Record<string, string>;
}

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;

/**
 * What goes into the bundle must be exactly the versions edge-agent/package.json pins: the root
 * package gets esbuild and ws through wrangler/miniflare, so a root upgrade could change them
 * silently. Fails the build naming the difference.
 */
async function checkPins(pkg: PackageJson): Promise<void> {
  const require = createRequire(join(ROOT, 'package.json'));
  const problems: string[] = [];
  for (const [name, pinned] of Object.entries(pkg.devDependencies ?? {})) {
    const found = name === 'esbuild' ? esbuildVersion : (await readJson<PackageJson>(require.resolve(`${name}/package.json`))).version;
    if (found !== pinned) problems.push(`${name}: edge-agent/package.json pins ${pinned}, node_modules has ${found}`);
  }
  if (problems.length > 0) throw new Error(`agent build: bundled versions differ from the pins:\n  ${problems.join('\n  ')}`);
}

export async function buildAgent(outdir = join(AGENT_DIR, 'dist')): Promise<string> {
  const pkg = await readJson<PackageJson>(join(AGENT_DIR, 'package.json'));
  const { AGENT_VERSION } = await import('../src/version.ts');
  if (pkg.version !== AGENT_VERSION)
    throw new Error(`agent build: edge-agent/package.json is ${pkg.version} but src/version.ts says ${AGENT_VERSION}`);
  await checkPins(pkg);
  await mkdir(outdir, { recursive: true });
  const outfile = join(outdir, BUNDLE_NAME);
  const result = await build({
    entryPoints: [join(AGENT_DIR, 'src/entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.20',
    // ws is CommonJS and requires node builtins; an ESM bundle has no `require` of its own.
    banner: {
      js: [
        '#!/usr/bin/env node',
        `// gridplane-agent ${pkg.version}, bundled by edge-agent/scripts/build.ts; licences of bundled packages: THIRD-PARTY-LICENSES.txt`,
        "import { createRequire as __gridplaneCreateRequire } from 'node:module';",
        'const require = __gridplaneCreateRequire(import.meta.url);',
      ].join('\n'),
    },
    // ws's optional native speed-ups: it requires them inside try/catch and works without them.
    external: ['bufferutil', 'utf-8-validate'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  await writeFile(join(outdir, 'THIRD-PARTY-LICENSES.txt'), await licences(Object.keys(result.metafile.inputs)));
  return outfile;
}

/** The licence text of every npm package whose files ended up in the bundle. */
async function licences(inputs: string[]): Promise<string> {
  const packageDirs = new Set<string>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packageDirs.add(resolve(ROOT, match[1]!));
  }
  const parts: string[] = [];
  for (const dir of [...packageDirs].sort()) {
    const pkg = await readJson<PackageJson>(join(dir, 'package.json'));
    let text = `(licence file not found; package.json says ${pkg.license ?? 'nothing'})`;
    for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license']) {
      try {
        text = await readFile(join(dir, name), 'utf8');
        break;
      } catch {
        // try the next name
      }
    }
    parts.push(`${pkg.name} ${pkg.version} (${pkg.license ?? 'unknown'}) — ${relative(ROOT, dir)}\n\n${text.trim()}\n`);
  }
  return parts.join(`\n${'-'.repeat(72)}\n\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  const outfile = await buildAgent(values.outdir === undefined ? undefined : resolve(values.outdir));
  console.log(
    `built ${relative(process.cwd(), outfile)} (${relative(process.cwd(), dirname(outfile))}/THIRD-PARTY-LICENSES.txt beside it)`,
  );
}
