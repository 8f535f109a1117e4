import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The tree's import graph, read with a regex instead of a parser (no new dependency): every
// static `import … from`, `export … from`, side-effect `import '…'` and literal `import('…')`.
// Only relative specifiers are edges; packages and `cloudflare:` modules are outside the graph.
// Type-only imports count too: a circle of types is still two files that cannot be read apart.

export type Graph = Map<string, string[]>;

/** Comments that start a line are dropped, so a commented-out import is not an edge. */
const LINE_COMMENT = /^\s*\/\/.*$/gm;
const BLOCK_COMMENT = /^\s*\/\*[\s\S]*?\*\//gm;
const FROM = /(?:^|[\n;])\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g;
const BARE = /(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export function specifiersOf(source: string): string[] {
  const text = source.replace(BLOCK_COMMENT, '').replace(LINE_COMMENT, '');
  const found: string[] = [];
  for (const re of [FROM, BARE, DYNAMIC]) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

function tsFilesUnder(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...tsFilesUnder(root, path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Resolves a relative specifier to a repository path (`workers/app.ts`), or null if no file is there. */
function resolveSpecifier(root: string, from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(root, dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return hit ? relative(root, hit).split('\\').join('/') : null;
}

/** file → the files it imports (repository paths, `/`-separated), for every .ts file under `dirs`. */
export function importGraph(root: string, dirs: readonly string[]): Graph {
  const graph: Graph = new Map();
  for (const file of dirs.flatMap((d) => tsFilesUnder(root, d))) {
    const source = readFileSync(join(root, file), 'utf8');
    const targets = specifiersOf(source)
      .map((s) => resolveSpecifier(root, file, s))
      .filter((t): t is string => t !== null);
    graph.set(file.split('\\').join('/'), [...new Set(targets)]);
  }
  return graph;
}

/**
 * One circle per strongly connected component (Tarjan), each written as the path that closes it:
 * [a, b, c, a]. A component is one knot however many circles run through it, so one path names it.
 */
export function findCycles(graph: Graph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => circleIn(graph, new Set(c)));
}

/** A shortest path from the component's first file (sorted) back to itself, inside the component. */
function circleIn(graph: Graph, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at: string | undefined = v; at !== undefined && at !== start; at = cameFrom.get(at)) path.unshift(at);
        return [start, ...path];
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

export interface Edge {
  from: string;
  to: string;
}

export function edgesOf(graph: Graph): Edge[] {
  return [...graph].flatMap(([from, tos]) => tos.map((to) => ({ from, to })));
}
