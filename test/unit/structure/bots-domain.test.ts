import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { edgesOf, importGraph, type Edge } from './import-graph.ts';

// The bots speak through the domain (issue 13, bots/README.md): commands call the operations
// bots/core/bot-ops.ts binds (the service functions the HTTP routes call), never a domain repo or
// the drizzle tables; and the bots' own tables are touched by the bots' own repos alone.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The bots' own repos: the only files that read or write the bots' tables. */
export const BOT_REPOS = new Set(['bots/telegram/telegram.repo.ts', 'bots/discord/discord.repo.ts', 'bots/proposal-posts.repo.ts']);
const BOT_TABLES = ['telegram_updates', 'telegram_flows', 'discord_interactions', 'proposal_posts'] as const;
/** The same tables as drizzle objects (db/schema/*.ts). */
const BOT_TABLE_OBJECTS = ['telegramUpdates', 'telegramFlows', 'discordInteractions', 'proposalPosts'] as const;

const under = (path: string, dir: string) => path.startsWith(`${dir}/`);

/** Edges from bots/ into a domain repo (a *.repo.ts outside bots/) or into db/ (schema, tables). */
export function botWallViolations(edges: Edge[]): Edge[] {
  return edges.filter(
    ({ from, to }) => under(from, 'bots') && !under(to, 'bots') && (to.endsWith('.repo.ts') || under(to, 'db') || to === 'db/schema.ts'),
  );
}

/** Statements naming a bots' table: FROM/INTO/UPDATE/JOIN/TABLE <name>. */
export function botTablesNamedIn(source: string): string[] {
  const sql = new RegExp(`\\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\\s+[\`"]?(${BOT_TABLES.join('|')})\\b`, 'gi');
  const objects = new RegExp(`\\b(${BOT_TABLE_OBJECTS.join('|')})\\b`, 'g');
  return [...source.matchAll(sql), ...source.matchAll(objects)].map((m) => m[1]!);
}

describe('the bots and the domain', () => {
  const graph = importGraph(ROOT, ['workers', 'bots', 'db', 'protocol']);
  const edges = edgesOf(graph);

  it('reads the bots: their files and their imports', () => {
    const botFiles = [...graph.keys()].filter((f) => under(f, 'bots'));
    expect(botFiles.length).toBeGreaterThan(30);
    for (const repo of BOT_REPOS) expect(graph.has(repo), repo).toBe(true);
    expect(graph.get('bots/core/bot-ops.ts')?.some((t) => t.endsWith('.service.ts'))).toBe(true);
  });

  it('nothing under bots/ imports a domain *.repo.ts or the drizzle tables of db/', () => {
    expect(botWallViolations(edges).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it("only the bots' own repos touch the bots' tables (telegram_updates, telegram_flows, discord_interactions, proposal_posts)", () => {
    const outside = [...graph.keys()]
      .filter((f) => !BOT_REPOS.has(f) && !under(f, 'db'))
      .flatMap((f) => botTablesNamedIn(readFileSync(join(ROOT, f), 'utf8')).map((t) => `${f}: ${t}`));
    expect(outside).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('a bot file importing a domain repo or db/ is a violation; its own repo, a service or a pure module is not', () => {
    const e = (from: string, to: string) => ({ from, to });
    const bad = [
      e('bots/core/commands/job.ts', 'workers/jobs/jobs.repo.ts'),
      e('bots/core/commands/job.ts', 'db/schema.ts'),
      e('bots/core/commands/governance.ts', 'db/schema/governance.ts'),
    ];
    const good = [
      e('bots/telegram/telegram.app.ts', 'bots/telegram/telegram.repo.ts'),
      e('bots/core/bot-ops.ts', 'workers/nodes/nodes.service.ts'),
      e('bots/core/commands/job.ts', 'workers/lib/amounts.ts'),
      e('workers/nodes/nodes.service.ts', 'workers/nodes/nodes.repo.ts'),
    ];
    expect(botWallViolations([...bad, ...good])).toEqual(bad);
  });

  it("finds the bots' tables in SQL and as drizzle objects, not in prose", () => {
    expect(botTablesNamedIn("db.prepare('DELETE FROM telegram_flows WHERE id = ?')")).toEqual(['telegram_flows']);
    expect(botTablesNamedIn('INSERT INTO discord_interactions (id) VALUES (?1)')).toEqual(['discord_interactions']);
    expect(botTablesNamedIn('db.select().from(proposalPosts)')).toEqual(['proposalPosts']);
    expect(botTablesNamedIn('// the flow state lives in telegram_flows')).toEqual([]);
  });
});
