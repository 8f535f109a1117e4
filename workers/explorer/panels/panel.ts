import type { Config } from '../../config.ts';
import type { Db } from '../../app-env.ts';
import type { Env } from '../../env.ts';
import type { Html } from '../pages/html.ts';

// A panel is one piece of a page fed by one data function. `load` reads what exists (or says it
// does not: `null`, an empty list) and the renderers turn exactly that into markup, so a panel
// never shows a number nobody measured. Pages run every panel's `load` concurrently.
//
// To give a panel real data when its feature lands, change only its `load` (and, if the shape
// grows, its renderers); the pages and the other panels do not change. A new panel is one file
// plus one line in home-panels.ts or node-panels.ts.

export interface PanelContext {
  env: Env;
  db: Db;
  config: Config;
  nowMs: number;
}

/** A headline number for the totals strip. `value: null` reads as "not yet" with the note. */
export interface Stat {
  key: string;
  label: string;
  value: string | null;
  note: string;
}

export interface Panel<Data, Subject = void> {
  id: string;
  load(ctx: PanelContext, subject: Subject): Promise<Data>;
  stats?(data: Data): Stat[];
  section?(data: Data): Html;
}

export interface LoadedPanel {
  id: string;
  stats: Stat[];
  section: Html | null;
}

/** Loads and renders one panel; the type parameter stays inside, so pages hold plain lists. */
export function definePanel<Data, Subject = void>(panel: Panel<Data, Subject>) {
  return {
    id: panel.id,
    async run(ctx: PanelContext, subject: Subject): Promise<LoadedPanel> {
      const data = await panel.load(ctx, subject);
      return { id: panel.id, stats: panel.stats?.(data) ?? [], section: panel.section?.(data) ?? null };
    },
  };
}

export type RunnablePanel<Subject = void> = ReturnType<typeof definePanel<unknown, Subject>>;

export async function runPanels<Subject>(
  panels: readonly RunnablePanel<Subject>[],
  ctx: PanelContext,
  subject: Subject,
): Promise<LoadedPanel[]> {
  return Promise.all(panels.map((p) => p.run(ctx, subject)));
}
