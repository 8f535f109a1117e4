import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { shardFor } from '../live/shard-stub.ts';
import { nodeIdSchema } from '../nodes/node-input.schema.ts';
import { nodeView } from '../nodes/node-view.ts';
import { findNode, gpusOf } from '../nodes/nodes.repo.ts';
import { nodeEvents, recentNodes } from './explorer.repo.ts';
import { homePage } from './pages/home-page.ts';
import { renderDocument, type Document } from './pages/layout.ts';
import { nodePage } from './pages/node-page.ts';
import { notFoundPage } from './pages/not-found-page.ts';
import { homePanels } from './panels/home-panels.ts';
import { nodePanels } from './panels/node-panels.ts';
import { runPanels, type PanelContext } from './panels/panel.ts';
import { networkSummary } from './summary-cache.ts';

// The explorer's HTML pages, rendered on the server from the same data as the JSON API. `/` is
// answered by the home sub-app, which hands browsers to `explorerHome`.

const RECENT_NODES = 12;
const HISTORY_EVENTS = 50;

export async function explorerHome(c: Context<AppEnv>): Promise<Response> {
  const ctx = panelContext(c);
  const [summary, recent, panels] = await Promise.all([
    networkSummary(c.var.db, c.var.config, ctx.nowMs),
    recentNodes(c.var.db, RECENT_NODES),
    runPanels(homePanels, ctx, undefined),
  ]);
  return send(c, homePage({ summary, recent, panels }), 200);
}

// Without an icon of its own, every browser visit would also ask for /favicon.ico and get a 404.
const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#c2410c"/></svg>';

export const explorerApp = new Hono<AppEnv>()
  .get('/favicon.svg', (c) => c.body(FAVICON, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' }))
  .get('/nodes/:nodeId', async (c) => {
    const parsed = nodeIdSchema.safeParse(c.req.param('nodeId'));
    const row = parsed.success ? await findNode(c.var.db, parsed.data) : undefined;
    if (!parsed.success || !row) return send(c, notFoundPage('This node'), 404);
    const nodeId = parsed.data;
    const ctx = panelContext(c);
    const [gpus, live, events, panels] = await Promise.all([
      gpusOf(c.var.db, [nodeId]),
      shardFor(c.env, nodeId).live(nodeId),
      nodeEvents(c.var.db, nodeId, HISTORY_EVENTS),
      runPanels(nodePanels, ctx, nodeId),
    ]);
    const node = nodeView(row, gpus.get(nodeId) ?? [], c.var.config.TOKEN_DECIMALS, ctx.nowMs, live);
    return send(c, nodePage({ node, events, panels, nowMs: ctx.nowMs }), 200);
  });

function panelContext(c: Context<AppEnv>): PanelContext {
  return { env: c.env, db: c.var.db, config: c.var.config, nowMs: Date.now() };
}

async function send(c: Context<AppEnv>, doc: Document, status: 200 | 404): Promise<Response> {
  const page = await renderDocument(doc);
  c.header('Content-Security-Policy', page.csp);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-cache');
  c.header('Vary', 'Accept');
  return c.html(page.html, status);
}
