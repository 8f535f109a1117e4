import { api, registeredAgent, registration, type TestAgent } from './agent.ts';

// Renters and nodes for the jobs suites, made through the public and dev routes.

export interface Renter {
  accountId: string;
  apiKey: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function newRenter(tokens = '100.000000'): Promise<Renter> {
  const res = await api('/v1/dev/accounts', { method: 'POST' });
  if (res.status !== 201) throw new Error(`dev account: ${res.status} ${await res.text()}`);
  const { accountId, apiKey } = (await res.json()) as { accountId: string; apiKey: string };
  const faucet = await api('/v1/dev/faucet', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId, amount: tokens }),
  });
  if (faucet.status !== 201) throw new Error(`faucet: ${faucet.status} ${await faucet.text()}`);
  return {
    accountId,
    apiKey,
    call: (method, path, body, headers = {}) =>
      api(path, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  };
}

export async function nodeAt(
  lat: number,
  lon: number,
  country: string,
  overrides: Record<string, unknown> = {},
): Promise<TestAgent> {
  return registeredAgent(registration({ location: { lat, lon, country }, ...overrides }));
}

export const jobBody = (overrides: Record<string, unknown> = {}) => ({
  gpu: { model: 'RTX 4090', count: 1 },
  durationS: 600,
  image: 'python:3.12-slim',
  command: ['python', '-c', 'print(1)'],
  env: { HF_TOKEN: 'hf_supersecretvalue' },
  client: { lat: 48.85, lon: 2.35 },
  ...overrides,
});

let eventCounter = 0;
export function sendEvent(agent: TestAgent, jobId: string, event: Record<string, unknown>): Promise<Response> {
  return agent.send('POST', `/v1/nodes/${agent.nodeId}/jobs/${jobId}/events`, { eventId: `ev-${++eventCounter}`, ...event });
}

export async function json<T = Record<string, any>>(res: Response, status?: number): Promise<T> {
  const text = await res.text();
  if (status !== undefined && res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}
