import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { explorerHome } from '../explorer/explorer.app.ts';
import { prefersHtml } from '../explorer/negotiate.ts';

/**
 * What a person or a tool finds at the root: a browser gets the explorer page, anything else
 * (no Accept header, application/json) what this is and where the API starts.
 */
export const homeApp = new Hono<AppEnv>()
  .get('/health', (c) => c.json({ ok: true }))
  .get('/', async (c) => {
    if (prefersHtml(c.req.header('accept'))) return explorerHome(c);
    c.header('Vary', 'Accept');
    return c.json({
      name: 'gridplane',
      description: 'Control plane of a community GPU network: register GPU nodes, rent GPUs near you, stake and vote.',
      environment: c.var.config.ENVIRONMENT,
      protocol: 'v1',
      links: {
        health: '/health',
        nodes: '/v1/nodes',
        probes: '/v1/probes',
        network: '/v1/network/summary',
      },
    });
  });
