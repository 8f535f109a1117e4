import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appSqlReason, appValidationReason, isOpsFile, readsD1Binding, repoTakesBinding, repoViolations } from './file-roles.ts';
import { edgesOf, findCycles, importGraph, specifiersOf, type Edge, type Graph } from './import-graph.ts';

// The walls of the house (issue 13, CONTRIBUTING.md "Dependencies"), checked on the real tree:
// no import circle; nothing under workers/ imports bots/ (the entry points wire the bots into the
// domain's ports); protocol/ stands alone; the agent never reaches into the Worker or the bots;
// and the economy's folders depend one way.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIRS = ['workers', 'bots', 'protocol', 'db', 'edge-agent/src'];

/** The entry points: they alone assemble the Worker from the domain and the bots. */
const ENTRY_POINTS = new Set(['workers/index.ts', 'workers/app.ts']);

/** Lowest first: a folder may import the ones before it, never one after it. */
export const ECONOMY_LAYERS = ['ledger', 'staking', 'slashing', 'verification', 'rewards'] as const;
/** All the economy may take from governance: the parameter store. */
const GOVERNANCE_PARAMS = new Set(['workers/governance/params.repo.ts', 'workers/governance/param-defs.ts']);
/** Governance stands on the ledger alone (proposal deposits, grants); it reads stake as SQL, not code. */
const GOVERNANCE_MAY_IMPORT = new Set(['ledger']);

const under = (path: string, dir: string) => path.startsWith(`${dir}/`);
const workersFolder = (path: string) => (under(path, 'workers') ? path.split('/')[1] : undefined);
const show = (edges: Edge[]) => edges.map((e) => `${e.from} → ${e.to}`);

export function economyViolations(edges: Edge[]): Edge[] {
  return edges.filter(({ from, to }) => {
    const a = workersFolder(from);
    const b = workersFolder(to);
    if (!a || !b || a === b) return false;
    const layerA = ECONOMY_LAYERS.indexOf(a as never);
    const layerB = ECONOMY_LAYERS.indexOf(b as never);
    if (a === 'governance') return layerB >= 0 && !GOVERNANCE_MAY_IMPORT.has(b);
    if (layerA < 0) return false;
    if (b === 'governance') return !GOVERNANCE_PARAMS.has(to);
    return layerB > layerA;
  });
}

describe('the import graph', () => {
  const graph = importGraph(ROOT, DIRS);
  const edges = edgesOf(graph);

  it('reads the tree: hundreds of files and the edges between them', () => {
    expect(graph.size).toBeGreaterThan(300);
    expect(graph.get('workers/index.ts')).toContain('workers/app.ts');
  });

  it('has no circle', () => {
    const cycles = findCycles(graph).map((c) => c.join(' → '));
    expect(cycles, `import circles:\n${cycles.join('\n')}`).toEqual([]);
  });

  it('nothing under workers/ imports bots/ except the entry points, which wire the ports', () => {
    const bad = edges.filter((e) => under(e.from, 'workers') && !ENTRY_POINTS.has(e.from) && under(e.to, 'bots'));
    expect(show(bad)).toEqual([]);
  });

  it('protocol/ imports none of workers/, bots/ or the agent', () => {
    const bad = edges.filter((e) => under(e.from, 'protocol') && ['workers', 'bots', 'edge-agent'].some((d) => under(e.to, d)));
    expect(show(bad)).toEqual([]);
  });

  it('the edge agent imports neither workers/ nor bots/', () => {
    const bad = edges.filter((e) => under(e.from, 'edge-agent') && (under(e.to, 'workers') || under(e.to, 'bots')));
    expect(show(bad)).toEqual([]);
  });

  it(`the economy runs one way: ${ECONOMY_LAYERS.join(' ← ')}; governance gives parameters only`, () => {
    expect(show(economyViolations(edges))).toEqual([]);
  });
});

/**
 * Files that still break a file-role rule, each in an area whose owner is reshaping it now; the
 * rule names them until they are done. An entry that no longer breaks its rule fails the test,
 * so this list only shrinks.
 */
const PENDING = {
  /** Routes holding SQL. */
  appSql: new Set<string>([]),
  /** Reading the D1 binding off an env instead of holding a Db. */
  d1Binding: new Set<string>([]),
  /** Still `*.ops.ts`. */
  ops: new Set<string>([]),
};

describe('file roles (CONTRIBUTING.md "File roles", "Reaching D1")', () => {
  const graph = importGraph(ROOT, DIRS);
  /** Every source file of the tree (tests are not in DIRS). */
  const everywhere = [...graph.keys()];
  const files = everywhere.filter((f) => under(f, 'workers') || under(f, 'bots'));
  const source = (f: string) => readFileSync(join(ROOT, f), 'utf8');
  const texts = new Map(everywhere.map((f) => [f, source(f)]));

  it('routes (*.app.ts) hold no SQL: no drizzle-orm import, no $client, no env.DB', () => {
    const bad = files.flatMap((f) => {
      const why = appSqlReason(f, texts.get(f)!);
      return why === null || PENDING.appSql.has(f) ? [] : [`${f}: ${why}`];
    });
    expect(bad).toEqual([]);
  });

  it("routes (*.app.ts) validate with workers/http/validator.ts's middleware: no jsonBody or queryParams call", () => {
    const bad = files.flatMap((f) => {
      const why = appValidationReason(f, texts.get(f)!);
      return why === null ? [] : [`${f}: ${why}`];
    });
    expect(bad).toEqual([]);
  });

  it('repos (*.repo.ts) decide nothing: no service, AppError, alert emitter or ledger posting', () => {
    expect(show(repoViolations(edgesOf(graph)))).toEqual([]);
  });

  it(`D1's binding is read in ${'workers/app-env.ts'} alone (dbOf); everything else holds a Db`, () => {
    const bad = everywhere.filter((f) => readsD1Binding(f, texts.get(f)!) && !PENDING.d1Binding.has(f));
    expect(bad).toEqual([]);
  });

  it('repos (*.repo.ts) take the Db, never the D1 binding itself (raw SQL through db.$client inside)', () => {
    expect(everywhere.filter((f) => repoTakesBinding(f, texts.get(f)!))).toEqual([]);
  });

  it('operations are *.service.ts: there is no *.ops.ts', () => {
    expect(files.filter((f) => isOpsFile(f) && !PENDING.ops.has(f))).toEqual([]);
  });

  it('every pending exception still breaks its rule (fixed ones leave the list)', () => {
    const still = (f: string, breaks: (text: string) => boolean) => texts.has(f) && breaks(texts.get(f)!);
    const fixed = [
      ...[...PENDING.appSql].filter((f) => !still(f, (t) => appSqlReason(f, t) !== null)),
      ...[...PENDING.d1Binding].filter((f) => !still(f, (t) => readsD1Binding(f, t))),
      ...[...PENDING.ops].filter((f) => !texts.has(f)),
    ];
    expect(fixed).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('reads every form of import and skips commented ones', () => {
    const source = [
      `import { a } from './a.ts';`,
      `import type {\n  B,\n  C,\n} from "./b.ts";`,
      `export { d } from './d.ts';`,
      `import './side-effect.ts';`,
      `const e = await import('./e.ts');`,
      `// import { f } from './f.ts';`,
      `/* import { g } from './g.ts'; */`,
      `const url = 'https://example.com/from/x'; import * as z from 'zod';`,
    ].join('\n');
    expect(specifiersOf(source).sort()).toEqual(['./a.ts', './b.ts', './d.ts', './e.ts', './side-effect.ts', 'zod']);
  });

  it('finds a circle and names it as a path', () => {
    const g: Graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(
      findCycles(g)
        .map((c) => c.join(' → '))
        .sort(),
    ).toEqual(['a → b → c → a', 'e → e']);
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('an arrow up the economy, or into governance beyond its parameters, is a violation', () => {
    const e = (from: string, to: string) => ({ from, to });
    const bad = [
      e('workers/ledger/x.ts', 'workers/staking/y.ts'),
      e('workers/staking/x.ts', 'workers/rewards/y.ts'),
      e('workers/slashing/x.ts', 'workers/rewards/y.ts'),
      e('workers/staking/x.ts', 'workers/governance/proposals.repo.ts'),
      e('workers/governance/x.ts', 'workers/staking/y.ts'),
    ];
    const good = [
      e('workers/rewards/x.ts', 'workers/slashing/y.ts'),
      e('workers/staking/x.ts', 'workers/governance/params.repo.ts'),
      e('workers/governance/x.ts', 'workers/ledger/y.ts'),
      e('workers/jobs/x.ts', 'workers/rewards/y.ts'),
    ];
    expect(economyViolations([...bad, ...good])).toEqual(bad);
  });

  it('a route with SQL or validating by hand, a repo that decides, a second way to D1 are each caught', () => {
    expect(appSqlReason('workers/x/x.app.ts', `import { eq } from 'drizzle-orm';`)).toBe('imports drizzle-orm');
    expect(appSqlReason('workers/x/x.app.ts', `await c.var.db.$client.prepare('SELECT 1').run();`)).toBe('uses $client');
    expect(appSqlReason('workers/x/x.app.ts', `await c.env.DB.prepare('SELECT 1').run();`)).toBe('reads env.DB');
    expect(appSqlReason('workers/x/x.app.ts', `// not env.DB: c.var.db\nconst rows = await listThings(c.var.db);`)).toBeNull();
    expect(appSqlReason('workers/x/x.repo.ts', `import { eq } from 'drizzle-orm';`)).toBeNull();
    expect(appValidationReason('workers/x/x.app.ts', 'const body = await jsonBody(c, schema);')).toBe('calls jsonBody');
    expect(appValidationReason('bots/x/x.app.ts', 'const q = queryParams (c, schema);')).toBe('calls queryParams');
    expect(
      appValidationReason('workers/x/x.app.ts', `.post('/', jsonInput(schema), (c) => c.json(c.req.valid('json'))) // not jsonBody(c)`),
    ).toBeNull();
    expect(readsD1Binding('workers/x/cron.ts', 'const d1 = env.DB;')).toBe(true);
    for (const spelling of ['gatewayFor(c.env.DB)', 'this.env?.DB', "env['DB']", 'const { DB, KV } = this.env;'])
      expect(readsD1Binding('bots/x/x.app.ts', spelling), spelling).toBe(true);
    expect(readsD1Binding('bots/x/x.app.ts', 'telegramRepo(c.var.db); const DB_LIMIT = 3; // not env.DB')).toBe(false);
    expect(readsD1Binding('workers/app-env.ts', 'return drizzle(env.DB, { schema });')).toBe(false);
    const e = (from: string, to: string) => ({ from, to });
    const bad = [
      e('workers/x/x.repo.ts', 'workers/errors.ts'),
      e('workers/x/x.repo.ts', 'workers/alerts/emit-alert.ts'),
      e('workers/x/x.repo.ts', 'workers/ledger/ledger.repo.ts'),
      e('workers/x/x.repo.ts', 'workers/y/y.service.ts'),
    ];
    const good = [
      e('workers/ledger/ledger.repo.ts', 'workers/ledger/ledger-errors.ts'),
      e('workers/x/x.service.ts', 'workers/errors.ts'),
      e('workers/x/x.repo.ts', 'workers/ledger/d1-batch.ts'),
    ];
    expect(repoViolations([...bad, ...good])).toEqual(bad);
    expect(isOpsFile('workers/x/x.ops.ts')).toBe(true);
    expect(
      repoTakesBinding('bots/x.repo.ts', 'export async function claim(\n  db: D1Database,\n  id: string,\n): Promise<boolean> {'),
    ).toBe(true);
    expect(
      repoTakesBinding('workers/x/x.repo.ts', 'export function fetcher(db: Db): RingFetcher { const d1: D1Database = db.$client; }'),
    ).toBe(false);
    expect(repoTakesBinding('workers/x/x.service.ts', 'export function f(db: D1Database) {}')).toBe(false);
  });
});
