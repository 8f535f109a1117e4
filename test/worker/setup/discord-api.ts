import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';

// A local stand-in for Discord's REST API, started once for the worker suite (vitest
// globalSetup). The Worker reaches it at 127.0.0.1 through DISCORD_API_ROOT; tests read what it
// received from GET /__requests, so every follow-up and channel post is asserted as a real HTTP
// request. It answers the few routes the bot uses with Discord-shaped bodies.

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
  at: number;
}

let nextId = 1_300_000_000_000_000_000n;
const snowflake = () => String(nextId++);

export default async function setup(project: TestProject) {
  const received: RecordedRequest[] = [];
  const server = createServer((req, res) => void handle(req, res, received));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('discordApiPort', (server.address() as AddressInfo).port);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

async function handle(req: IncomingMessage, res: ServerResponse, received: RecordedRequest[]) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const pathname = decodeURIComponent(url.pathname);
  const send = (status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  if (url.pathname === '/__requests') return send(200, received);

  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  received.push({ method: req.method ?? 'GET', path: pathname, authorization: req.headers.authorization ?? null, body, at: Date.now() });

  const path = pathname.replace(/^\/api\/v[0-9]+/, '');
  // Opening a DM channel (renter alerts): the same user always gets the same channel.
  if (path === '/users/@me/channels' && req.method === 'POST') {
    const recipient = String((body as { recipient_id?: unknown } | null)?.recipient_id ?? '');
    if (!/^[0-9]+$/.test(recipient)) return send(400, { message: 'Invalid Form Body', code: 50035 });
    return send(200, { id: `9${recipient}`.slice(0, 20), type: 1, recipients: [{ id: recipient }] });
  }
  const channel = /^\/channels\/([0-9]+)\/messages(?:\/([0-9]+))?$/.exec(path);
  if (channel) {
    if (req.method === 'POST') return send(200, { id: snowflake(), channel_id: channel[1], ...(body as object) });
    if (req.method === 'PATCH') return send(200, { id: channel[2], channel_id: channel[1], ...(body as object) });
  }
  const webhook = /^\/webhooks\/([0-9]+)\/([^/]+)(?:\/messages\/(@original|[0-9]+))?$/.exec(path);
  if (webhook) {
    if (req.method === 'DELETE') return send(204);
    return send(200, { id: snowflake(), ...(body as object) });
  }
  if (/^\/applications\/[0-9]+(\/guilds\/[0-9]+)?\/commands$/.test(path) && req.method === 'PUT') {
    return send(
      200,
      (body as object[]).map((c) => ({ id: snowflake(), ...c })),
    );
  }
  send(404, { message: 'Unknown route', code: 0 });
}
