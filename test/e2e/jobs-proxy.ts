// A proxy between an agent and the local control plane that makes every job event arrive twice:
// the first time an event id passes, the request is forwarded and its answer thrown away, and
// the agent gets a 502; the agent sends the event again (fresh nonce, same event id), and that
// answer goes back. Everything else is forwarded untouched (the WebSocket upgrade is not, so the
// agent falls back to heartbeat answers).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function createEventDoublingProxy(target: string) {
  const seen = new Set<string>();
  let doubled = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const forward = () =>
      fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
    try {
      if (req.method === 'POST' && /\/jobs\/[^/]+\/events$/.test(req.url ?? '')) {
        const eventId = (JSON.parse(body.toString('utf8')) as { eventId?: string }).eventId ?? '';
        if (!seen.has(eventId)) {
          seen.add(eventId);
          await (await forward()).arrayBuffer();
          doubled++;
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'bad_gateway', message: 'The answer was lost on the way.' } }));
          return;
        }
      }
      const upstream = await forward();
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    doubled: () => doubled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
