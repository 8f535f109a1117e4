import { specifiersOf, type Edge } from './import-graph.ts';

// The rules of CONTRIBUTING.md "File roles", "Reaching D1" and "Validation at the boundary" that a
// regex over the tree can check: routes hold no SQL and validate with the middleware, repos decide
// nothing, D1 is reached one way, operations are `*.service.ts`. Each check takes a file's path
// and text (or the import edges) and returns what breaks the rule, so the test names the file.

const isApp = (path: string) => path.endsWith('.app.ts');
const isRepo = (path: string) => path.endsWith('.repo.ts');

/** Where D1's binding is read: `dbOf(env)` (workers/app-env.ts) makes every `Db` from it. */
export const D1_HOME = 'workers/app-env.ts';

/**
 * The binding read off an env, in any spelling: `env.DB`, `c.env.DB`, `this.env.DB`, `env?.DB`,
 * `env['DB']`, `const { DB } = env`.
 */
const READS_D1_BINDING = /\benv\s*\??\.\s*DB\b|\benv\s*(?:\?\.)?\[\s*['"`]DB['"`]\s*\]|\{[^{}]*\bDB\b[^{}]*\}\s*=\s*[\w.]*\benv\b/;
const RAW_D1 = /\$client\b/;

/** Why a route file holds SQL, or null: drizzle's query functions, the raw D1 handle, the binding. */
export function appSqlReason(path: string, source: string): string | null {
  if (!isApp(path)) return null;
  const drizzle = specifiersOf(source).find((s) => s === 'drizzle-orm' || s.startsWith('drizzle-orm/'));
  if (drizzle) return `imports ${drizzle}`;
  const text = withoutComments(source);
  if (RAW_D1.test(text)) return 'uses $client';
  if (READS_D1_BINDING.test(text)) return 'reads env.DB';
  return null;
}

/**
 * Why a route validates its input by hand, or null: the body and query go through
 * workers/http/validator.ts's middleware (CONTRIBUTING.md "Validation at the boundary"); body.ts's
 * `jsonBody` and `queryParams` were the old way.
 */
export function appValidationReason(path: string, source: string): string | null {
  if (!isApp(path)) return null;
  const call = /\b(jsonBody|queryParams)\s*\(/.exec(withoutComments(source));
  return call ? `calls ${call[1]}` : null;
}

/** True when the file reads the D1 binding itself instead of through a `Db`. */
export function readsD1Binding(path: string, source: string): boolean {
  return path !== D1_HOME && READS_D1_BINDING.test(withoutComments(source));
}

/**
 * What a repo may not import: operations (`*.service.ts`), the error type (a repo returns what
 * happened; the service decides what it means), the alert emitter, and the ledger's posting
 * (`ledger.repo.ts`: a service posts, with the repo's statements in its batch). The ledger's own
 * repo is where postings are written and names the ledger's constraint failures.
 */
export function repoViolations(edges: Edge[]): Edge[] {
  const forbidden = (to: string) =>
    to.endsWith('.service.ts') ||
    to === 'workers/errors.ts' ||
    to === 'workers/alerts/emit-alert.ts' ||
    to === 'workers/ledger/ledger.repo.ts' ||
    to === 'workers/ledger/ledger-errors.ts';
  return edges.filter(
    ({ from, to }) =>
      isRepo(from) && forbidden(to) && !(from === 'workers/ledger/ledger.repo.ts' && to === 'workers/ledger/ledger-errors.ts'),
  );
}

/** True when a repo's exported function takes the D1 binding itself (`db: D1Database`) instead of the `Db`. */
export function repoTakesBinding(path: string, source: string): boolean {
  return path.endsWith('.repo.ts') && /export\s+(async\s+)?function\s+\w+\s*\([^)]*:\s*D1Database\b/.test(withoutComments(source));
}

/** `*.ops.ts` named the same role as `*.service.ts`; operations are services now. */
export const isOpsFile = (path: string) => path.endsWith('.ops.ts');

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}
