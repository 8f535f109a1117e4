// The job stream's client is `ws` on every Node version (Node 20 has no global WebSocket): against
// a loopback `ws` server that checks the signature headers like the control plane, offers and
// stops reach the handlers, and an abort closes the stream.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { identityFromPkcs8 } from '../../edge-agent/src/identity.ts';
import { runJobStream } from '../../edge-agent/src/jobs/job-stream.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import { AGENT_HEADERS, base64ToBytes, signingString } from '../../protocol/signed-request.ts';
import { decodePublicKey } from '../../protocol/base58.ts';
import { waitFor } from './helpers/index.ts';

let server: WebSocketServer | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

describe('job stream over ws', () => {
  it('connects with a valid signature, delivers offers and stops, and closes on abort', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const identity = await identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
    const verdicts: boolean[] = [];
    server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      // The control plane's check, from the shared protocol module: refuse the upgrade if it fails.
      verifyClient: async ({ req }, done) => {
        const h = (name: string) => String(req.headers[name.toLowerCase()] ?? '');
        const message = signingString({
          method: 'GET',
          pathWithQuery: req.url ?? '',
          timestampMs: Number(h(AGENT_HEADERS.timestamp)),
          nonce: h(AGENT_HEADERS.nonce),
          bodySha256Hex: createHash('sha256').update('').digest('hex'),
        });
        const key = await crypto.subtle.importKey('raw', decodePublicKey(h(AGENT_HEADERS.node))!, { name: 'Ed25519' }, false, ['verify']);
        const ok = await crypto.subtle.verify(
          'Ed25519',
          key,
          base64ToBytes(h(AGENT_HEADERS.signature))!,
          new TextEncoder().encode(message),
        );
        verdicts.push(ok && h(AGENT_HEADERS.node) === identity.nodeId && req.url === `/v1/nodes/${identity.nodeId}/stream`);
        done(ok, 401);
      },
    });
    await new Promise<void>((r) => server!.once('listening', () => r()));
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'job', job: { id: 'job_1', image: 'python:3.12-slim' } }));
      socket.send(JSON.stringify({ type: 'stop', jobId: 'job_0', reason: 'cancelled' }));
    });
    const jobs: unknown[] = [];
    const stops: [string, string][] = [];
    const controller = new AbortController();
    const log = createMemoryLogger();
    const done = runJobStream({
      identity,
      controlPlaneUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      path: `/v1/nodes/${identity.nodeId}/stream`,
      log,
      signal: controller.signal,
      onJob: (job) => jobs.push(job),
      onStop: (jobId, reason) => stops.push([jobId, reason]),
    });
    await waitFor(() => jobs.length === 1 && stops.length === 1, 'an offer and a stop');
    expect(verdicts).toEqual([true]);
    expect(jobs).toEqual([{ id: 'job_1', image: 'python:3.12-slim' }]);
    expect(stops).toEqual([['job_0', 'cancelled']]);
    expect(log.records.map((r) => r.event)).toContain('stream_open');
    const closed = new Promise<number>((r) =>
      server!.clients
        .values()
        .next()
        .value!.once('close', (code) => r(code)),
    );
    controller.abort();
    expect(await done).toBe(true);
    expect(await closed).toBe(1000);
  });
});
