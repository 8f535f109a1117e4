import { verify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initIdentity } from '../../edge-agent/src/identity.ts';
import { createSignedFetch } from '../../edge-agent/src/signed-fetch.ts';
import { FakeControlPlane, expectedSigningString, readPublicKey, tempDir } from './helpers/index.ts';

let cp: FakeControlPlane;

beforeEach(async () => {
  cp = new FakeControlPlane();
  await cp.listen();
});
afterEach(async () => {
  await cp.close();
});

async function signer(prefix = '') {
  const home = await tempDir();
  const { identity } = await initIdentity(home);
  const { publicKey, nodeId } = await readPublicKey(home);
  cp.publicKey = publicKey;
  return { signedFetch: createSignedFetch(identity, cp.url + prefix), publicKey, nodeId };
}

describe('signed requests (PROTOCOL.md, "Signed agent requests")', () => {
  it('signs the six lines over the exact bytes sent, verifiable with node:crypto', async () => {
    const { signedFetch, publicKey, nodeId } = await signer();
    const before = Date.now();
    const body = {
      gpus: [{ index: 0, utilPct: 12, memUsedMb: 1200, tempC: 54, powerW: 120 }],
      probes: [],
      runningJobs: [],
      note: 'ünïcödé',
    };
    await signedFetch({ method: 'POST', path: `/v1/nodes/${nodeId}/heartbeat?debug=1&x=%20y`, body });
    const req = cp.requests.at(-1)!;

    expect(req.url).toBe(`/v1/nodes/${nodeId}/heartbeat?debug=1&x=%20y`);
    expect(req.headers['x-gridplane-node']).toBe(nodeId);
    expect(req.headers['content-type']).toBe('application/json');
    const timestamp = req.headers['x-gridplane-timestamp'] as string;
    const nonce = req.headers['x-gridplane-nonce'] as string;
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(Date.now());
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(JSON.parse(req.rawBody.toString('utf8'))).toEqual(body);

    const signature = Buffer.from(req.headers['x-gridplane-signature'] as string, 'base64');
    expect(signature).toHaveLength(64);
    const message = expectedSigningString('POST', req.url, timestamp, nonce, req.rawBody);
    expect(message.split('\n')).toHaveLength(6);
    expect(verify(null, Buffer.from(message), publicKey, signature)).toBe(true);
    // The same signature must not verify for another path or body.
    expect(
      verify(
        null,
        Buffer.from(expectedSigningString('POST', `/v1/nodes/${nodeId}/heartbeat`, timestamp, nonce, req.rawBody)),
        publicKey,
        signature,
      ),
    ).toBe(false);
    expect(
      verify(null, Buffer.from(expectedSigningString('POST', req.url, timestamp, nonce, Buffer.from('{}'))), publicKey, signature),
    ).toBe(false);
    expect(req.signatureValid).toBe(true);
  });

  it('hashes the empty string when there is no body', async () => {
    const { signedFetch, publicKey } = await signer();
    await signedFetch({ method: 'GET', path: '/v1/probes' });
    const req = cp.requests.at(-1)!;
    expect(req.rawBody).toHaveLength(0);
    const message = expectedSigningString(
      'GET',
      '/v1/probes',
      req.headers['x-gridplane-timestamp'] as string,
      req.headers['x-gridplane-nonce'] as string,
      Buffer.alloc(0),
    );
    expect(message.endsWith('\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')).toBe(true);
    expect(verify(null, Buffer.from(message), publicKey, Buffer.from(req.headers['x-gridplane-signature'] as string, 'base64'))).toBe(true);
  });

  it('signs the full path when the control plane lives under a prefix', async () => {
    const { signedFetch } = await signer('/gp/');
    await signedFetch({ method: 'GET', path: '/v1/probes' });
    const req = cp.requests.at(-1)!;
    expect(req.url).toBe('/gp/v1/probes');
    expect(req.signatureValid).toBe(true);
  });

  it('uses a fresh nonce for every request', async () => {
    const { signedFetch } = await signer();
    for (let i = 0; i < 20; i++) await signedFetch({ method: 'GET', path: '/v1/probes' });
    const nonces = cp.requests.map((r) => r.headers['x-gridplane-nonce']);
    expect(new Set(nonces).size).toBe(20);
  });
});
