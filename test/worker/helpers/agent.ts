import { exports } from 'cloudflare:workers';
import { encodeBase58 } from '../../../protocol/base58.ts';

// A test agent that signs requests the way PROTOCOL.md describes. The six-line string is built
// here independently of the Worker's own signing helper, so a drift in either one shows up.

export interface TestAgent {
  nodeId: string;
  keyPair: CryptoKeyPair;
  send(method: string, path: string, body?: unknown, opts?: SendOptions): Promise<Response>;
}

export interface SendOptions {
  /** Raw body bytes instead of JSON of `body`. */
  rawBody?: Uint8Array | string;
  nonce?: string;
  timestampMs?: number;
  /** Sign as this agent but claim another node id in the header. */
  headerNodeId?: string;
  /** Sign with another key. */
  signWith?: CryptoKeyPair;
  /** Change the body after signing. */
  tamper?: (body: Uint8Array) => Uint8Array;
  omitHeaders?: string[];
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const b64 = (buf: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buf)));

export function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

export async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function nodeIdOf(keyPair: CryptoKeyPair): Promise<string> {
  const raw = (await crypto.subtle.exportKey('raw', keyPair.publicKey)) as ArrayBuffer;
  return encodeBase58(new Uint8Array(raw));
}

export async function signedRequest(
  keyPair: CryptoKeyPair,
  nodeId: string,
  method: string,
  path: string,
  body?: unknown,
  opts: SendOptions = {},
): Promise<Request> {
  const bytes =
    opts.rawBody !== undefined
      ? typeof opts.rawBody === 'string'
        ? new TextEncoder().encode(opts.rawBody)
        : opts.rawBody
      : body === undefined
        ? new Uint8Array()
        : new TextEncoder().encode(JSON.stringify(body));
  const timestamp = String(opts.timestampMs ?? Date.now());
  const nonce = opts.nonce ?? randomNonce();
  const message = ['gridplane-v1', method.toUpperCase(), path, timestamp, nonce, hex(await crypto.subtle.digest('SHA-256', bytes))].join(
    '\n',
  );
  const signer = opts.signWith ?? keyPair;
  const signature = await crypto.subtle.sign('Ed25519', signer.privateKey, new TextEncoder().encode(message));
  const headers = new Headers({
    'content-type': 'application/json',
    'X-Gridplane-Node': opts.headerNodeId ?? nodeId,
    'X-Gridplane-Timestamp': timestamp,
    'X-Gridplane-Nonce': nonce,
    'X-Gridplane-Signature': b64(signature),
  });
  for (const name of opts.omitHeaders ?? []) headers.delete(name);
  const sent = opts.tamper ? opts.tamper(bytes) : bytes;
  return new Request(`http://gridplane.test${path}`, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : sent,
  });
}

export async function newAgent(): Promise<TestAgent> {
  const keyPair = await newKeyPair();
  const nodeId = await nodeIdOf(keyPair);
  return {
    nodeId,
    keyPair,
    send: async (method, path, body, opts) => call(await signedRequest(keyPair, nodeId, method, path, body, opts)),
  };
}

export function call(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

export const api = (path: string, init?: RequestInit) => call(new Request(`http://gridplane.test${path}`, init));

export const OWNER = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

export function registration(overrides: Record<string, unknown> = {}) {
  return {
    owner: OWNER,
    name: 'rig-1',
    gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 }],
    location: { lat: 35.68, lon: 139.69, country: 'JP' },
    pricePerGpuHour: '1.250000',
    agentVersion: '0.1.0',
    ...overrides,
  };
}

export function heartbeat(overrides: Record<string, unknown> = {}) {
  return {
    gpus: [{ index: 0, utilPct: 12, memUsedMb: 1200, tempC: 54, powerW: 120 }],
    probes: [{ target: 'NRT', rttMs: 3.2 }],
    runningJobs: [],
    ...overrides,
  };
}

export async function registeredAgent(overrides: Record<string, unknown> = {}): Promise<TestAgent> {
  const agent = await newAgent();
  const res = await agent.send('POST', '/v1/nodes', registration(overrides));
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return agent;
}

export async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}
