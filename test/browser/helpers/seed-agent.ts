// Agents that talk to a running control plane from Node, signing exactly as PROTOCOL.md says
// with the shared protocol helpers: enough to seed a local stack with nodes and heartbeats.
import { webcrypto } from 'node:crypto';
import { encodeBase58 } from '../../../protocol/base58.ts';
import { AGENT_HEADERS, bytesToBase64, sha256Hex, signingString } from '../../../protocol/signed-request.ts';

export const OWNER = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

export interface SeedNode {
  name: string;
  lat: number;
  lon: number;
  country: string;
  gpus: { model: string; vramMb: number; count: number; simulated?: boolean }[];
  price: string;
}

export interface SeedAgent {
  nodeId: string;
  spec: SeedNode;
  register(): Promise<void>;
  heartbeat(): Promise<void>;
}

export async function seedAgent(baseUrl: string, spec: SeedNode): Promise<SeedAgent> {
  const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const nodeId = encodeBase58(new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey)));

  async function send(method: string, path: string, body: unknown): Promise<Response> {
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const timestampMs = Date.now();
    const nonce = bytesToBase64(webcrypto.getRandomValues(new Uint8Array(18)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    const message = signingString({ method, pathWithQuery: path, timestampMs, nonce, bodySha256Hex: await sha256Hex(bytes) });
    const signature = new Uint8Array(await webcrypto.subtle.sign('Ed25519', pair.privateKey, new TextEncoder().encode(message)));
    return fetch(baseUrl + path, {
      method,
      body: bytes,
      headers: {
        'content-type': 'application/json',
        [AGENT_HEADERS.node]: nodeId,
        [AGENT_HEADERS.timestamp]: String(timestampMs),
        [AGENT_HEADERS.nonce]: nonce,
        [AGENT_HEADERS.signature]: bytesToBase64(signature),
      },
    });
  }

  const expectOk = async (res: Response, what: string) => {
    if (!res.ok) throw new Error(`${what} for ${spec.name} failed: ${res.status} ${await res.text()}`);
  };

  return {
    nodeId,
    spec,
    register: async () =>
      expectOk(
        await send('POST', '/v1/nodes', {
          owner: OWNER,
          name: spec.name,
          gpus: spec.gpus,
          location: { lat: spec.lat, lon: spec.lon, country: spec.country },
          pricePerGpuHour: spec.price,
          agentVersion: '0.1.0',
        }),
        'registration',
      ),
    heartbeat: async () => {
      const gpuCount = spec.gpus.reduce((n, g) => n + g.count, 0);
      const gpus = Array.from({ length: gpuCount }, (_, index) => ({
        index,
        utilPct: (index * 37 + spec.name.length * 11) % 100,
        memUsedMb: 1024 * (index + 1),
        tempC: 45 + index,
        powerW: 150 + 10 * index,
      }));
      await expectOk(
        await send('POST', `/v1/nodes/${nodeId}/heartbeat`, { gpus, probes: [{ target: 'FRA', rttMs: 12.5 }], runningJobs: [] }),
        'heartbeat',
      );
    },
  };
}
