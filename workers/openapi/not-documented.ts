// Routes the OpenAPI document leaves out, each with the reason. test/worker/openapi.test.ts
// fails on a registered route that is neither in the catalogue nor matched here, so adding a
// route means deciding which list it belongs to. Paths are Hono's (`:param`).

export interface Undocumented {
  method: string;
  path: string;
  why: string;
}

/** Whole trees, by prefix. */
export const undocumentedPrefixes: { prefix: string; why: string }[] = [
  { prefix: '/v1/admin/', why: 'operators only (Authorization: Bearer <ADMIN_TOKEN>); workers/README.md lists them' },
  { prefix: '/v1/dev/', why: 'development and test only: 404 in production (PROTOCOL.md "Development mode")' },
  {
    prefix: '/pay/',
    why: "HTML page and its QR code PNG for the chats' deposit links (a wallet opens the solana: request from there; bots/README.md)",
  },
  {
    prefix: '/e/',
    why: 'endpoint URLs: every method and path is the renter\'s own server\'s API, passed through (PROTOCOL.md "Endpoint URL")',
  },
];

const AGENT = 'signed agent protocol (PROTOCOL.md "Signed agent requests"): its one client is the edge agent, which shares these schemas';

export const undocumentedRoutes: Undocumented[] = [
  { method: 'POST', path: '/v1/nodes', why: AGENT },
  { method: 'POST', path: '/v1/nodes/:nodeId/heartbeat', why: AGENT },
  { method: 'GET', path: '/v1/nodes/:nodeId/challenges', why: AGENT },
  { method: 'POST', path: '/v1/nodes/:nodeId/challenges/:challengeId/answer', why: AGENT },
  { method: 'POST', path: '/v1/nodes/:nodeId/jobs/:jobId/events', why: AGENT },
  { method: 'GET', path: '/v1/nodes/:nodeId/stream', why: `${AGENT}; a WebSocket` },
  { method: 'GET', path: '/v1/nodes/:nodeId/tunnel', why: `${AGENT}; a WebSocket (the endpoints tunnel, protocol/tunnel.ts)` },
  { method: 'POST', path: '/telegram/webhook', why: "Telegram's webhook: only Telegram calls it, with its secret" },
  { method: 'POST', path: '/discord/interactions', why: "Discord's interactions endpoint: only Discord calls it, signed" },
  { method: 'GET', path: '/link', why: 'HTML page (wallet linking)' },
  { method: 'GET', path: '/nodes/:nodeId', why: 'HTML page (explorer)' },
  { method: 'GET', path: '/favicon.svg', why: "the explorer's icon" },
  { method: 'GET', path: '/docs', why: 'HTML page: this document, rendered' },
  { method: 'GET', path: '/openapi.json', why: 'this document itself' },
];

export function whyUndocumented(method: string, path: string): string | null {
  const route = undocumentedRoutes.find((r) => r.method === method && r.path === path);
  if (route) return route.why;
  return undocumentedPrefixes.find((p) => path.startsWith(p.prefix))?.why ?? null;
}
