import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { linkTokenStatus, type LinkTokenStatus } from '../accounts/link-token-status.ts';
import type { Document } from '../explorer/pages/layout.ts';
import { linkPage, linkProblemPage } from './link-page.ts';
import { renderLinkDocument } from './link-document.ts';

// `GET /link?token=…`: the page the bots send people to (bots/core/commands/account.ts), and,
// without a token, a plain wallet sign-in. The token is only looked at here; the sign-in uses it.

const PROBLEM_STATUS = { malformed: 400, unknown: 404, expired: 410, used: 410 } as const;

export const linkApp = new Hono<AppEnv>().get('/', async (c) => {
  const token = c.req.query('token');
  const cluster = c.var.config.solanaCluster;
  if (token === undefined) return send(c, linkPage({ cluster }), 200);
  const status: LinkTokenStatus = await linkTokenStatus(c.var.db, token, Date.now());
  if (status.state !== 'usable') return send(c, linkProblemPage(status), PROBLEM_STATUS[status.state]);
  return send(
    c,
    linkPage({
      cluster,
      link: {
        token,
        platform: status.platform,
        platformUserId: status.platformUserId,
        platformUserName: status.platformUserName,
        expiresAt: status.expiresAt,
      },
    }),
    200,
  );
});

async function send(c: Context<AppEnv>, doc: Document, status: 200 | 400 | 404 | 410): Promise<Response> {
  const page = await renderLinkDocument(doc);
  c.header('Content-Security-Policy', page.csp);
  c.header('X-Content-Type-Options', 'nosniff');
  // The URL carries a secret: never in a Referer, never in a shared cache.
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-store');
  return c.html(page.html, status);
}
