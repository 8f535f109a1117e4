import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { renderDocument } from '../explorer/pages/layout.ts';
import { docsPage } from './docs-page.ts';
import { openApiDocument } from './document.ts';

// GET /openapi.json (the API described from the route catalogue) and GET /docs (it, rendered).

export const openApiApp = new Hono<AppEnv>()
  .get('/openapi.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    c.header('Access-Control-Allow-Origin', '*');
    return c.json(openApiDocument());
  })
  .get('/docs', async (c) => {
    const page = await renderDocument(docsPage());
    c.header('Content-Security-Policy', page.csp);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'public, max-age=300');
    return c.html(page.html);
  });
