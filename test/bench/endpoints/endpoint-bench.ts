// Inference endpoints on the local stack with real agents (process runtime, simulated GPUs) and
// the SSE replica fixture (test/e2e/fixtures/sse-replica.mjs), as the end-to-end test runs them:
//   - gateway overhead: time to first byte through /e/{id}/… against the same request sent
//     straight to the replica's loopback port, and requests per second through one tunnel
//     against direct, alternated in one run so their ratios compare like with like;
//   - failover: kill one replica's agent (SIGKILL) under steady load from its nearest callers;
//     the time from the kill to the next successful request, and how many requests started after
//     the death was detectable (the agent's exit seen) were lost (goal: none);
//   - cold start from zero: a fresh endpoint with no replica, its first request (wake, placement,
//     the agent starting the server, its health check, ready) until the first byte.
// Numbers only; nothing here fails on a figure.
import type { LocalStack } from '../../support/local-stack.ts';
import { waitFor, type AgentProcess } from '../../e2e/agent-process.ts';
import { newRenter, readyAgent, type E2eRenter, type ReadyAgent } from '../../e2e/jobs-helpers.ts';
import {
  NEW_YORK,
  PARIS,
  crash,
  endpointOf,
  endpointRequest,
  endpointUrl,
  replicaPorts,
  streamTokens,
  tickUntil,
  type StreamResult,
} from '../../e2e/endpoints-helpers.ts';
import { throughput, type BenchRow } from '../bench-table.ts';

const quantile = (v: number[], q: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

async function createEndpoint(renter: E2eRenter, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await renter.call('POST', '/v1/endpoints', endpointRequest(body));
  if (res.status !== 201) throw new Error(`create endpoint: ${res.status} ${await res.text()}`);
  const id = ((await res.json()) as { id: string }).id;
  const keyRes = await renter.call('POST', `/v1/endpoints/${id}/keys`, { name: 'bench' });
  if (keyRes.status !== 201) throw new Error(`endpoint key: ${keyRes.status} ${await keyRes.text()}`);
  return { id, key: ((await keyRes.json()) as { key: string }).key };
}

async function readyReplicas(stack: LocalStack, renter: E2eRenter, id: string, count: number) {
  return tickUntil(stack, `${count} ready replicas of ${id}`, async () => {
    const set = (await endpointOf(renter, id)).replicaSet;
    return set.filter((r) => r.ready).length >= count ? set.filter((r) => r.ready) : undefined;
  });
}

/** Time to the first byte of the body (the replica's first token event). */
async function ttfb(url: string, headers: Record<string, string>): Promise<number> {
  const start = performance.now();
  const res = await fetch(url, { headers });
  const reader = res.body!.getReader();
  await reader.read();
  const at = performance.now() - start;
  await reader.cancel();
  if (res.status !== 200) throw new Error(`ttfb: ${res.status}`);
  return at;
}

async function overheadRows(stack: LocalStack, renter: E2eRenter, paris: AgentProcess): Promise<BenchRow[]> {
  const { id, key } = await createEndpoint(renter, { name: 'bench-overhead', regions: [PARIS], scaling: { targetInflight: 1000 } });
  const [replica] = await readyReplicas(stack, renter, id, 1);
  const port = await waitFor('replica port', async () => replicaPorts(paris).get(replica!.id));
  const gateway = { authorization: `Bearer ${key}`, 'x-gridplane-client-location': `${PARIS.lat},${PARIS.lon}` };
  const via = (path: string) => endpointUrl(stack, id, path);
  const direct = (path: string) => `http://127.0.0.1:${port}${path}`;
  const first = '/v1/stream?n=1&delayMs=0';
  // Warm both paths (the isolate's endpoint entry, the tunnel object, connections).
  for (let i = 0; i < 5; i++) {
    await ttfb(via(first), gateway);
    await ttfb(direct(first), {});
  }
  const viaMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < 40; i++) {
    viaMs.push(await ttfb(via(first), gateway));
    directMs.push(await ttfb(direct(first), {}));
  }
  // Requests per second, 8 at a time, the smallest real request; alternated halves.
  const ping = async (url: string, headers: Record<string, string>) => {
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`ping: ${res.status}`);
  };
  const rps = { via: [] as number[], direct: [] as number[] };
  for (let round = 0; round < 2; round++) {
    rps.via.push(await throughput(300, 8, () => ping(via('/v1/ping'), gateway)));
    rps.direct.push(await throughput(300, 8, () => ping(direct('/v1/ping'), {})));
  }
  await renter.call('DELETE', `/v1/endpoints/${id}`);
  const viaRps = (rps.via[0]! + rps.via[1]!) / 2;
  const directRps = (rps.direct[0]! + rps.direct[1]!) / 2;
  const m = { via: quantile(viaMs, 0.5), direct: quantile(directMs, 0.5) };
  return [
    {
      name: 'TTFB through the endpoint URL, median',
      value: m.via,
      unit: 'ms',
      note: `p90 ${quantile(viaMs, 0.9).toFixed(1)} ms; 40 SSE requests, caller and replica on loopback`,
    },
    {
      name: 'TTFB straight to the replica port, median',
      value: m.direct,
      unit: 'ms',
      note: `p90 ${quantile(directMs, 0.9).toFixed(1)} ms; same requests, alternated`,
    },
    {
      name: 'TTFB added by gateway + tunnel, median',
      value: m.via - m.direct,
      unit: 'ms',
      note: `ratio ${(m.via / m.direct).toFixed(1)}×`,
    },
    { name: 'requests/s through one tunnel', value: viaRps, unit: 'req/s', note: '600 GETs, 8 in flight, wrangler dev on this machine' },
    {
      name: 'requests/s straight to the replica',
      value: directRps,
      unit: 'req/s',
      note: `same; tunnel/direct ${(viaRps / directRps).toFixed(2)}`,
    },
  ];
}

async function failoverRows(stack: LocalStack, renter: E2eRenter, paris: ReadyAgent, newYork: ReadyAgent): Promise<BenchRow[]> {
  const { id, key } = await createEndpoint(renter, {
    name: 'bench-failover',
    replicas: { min: 2, max: 2 },
    regions: [PARIS, NEW_YORK],
    scaling: { targetInflight: 1000 },
  });
  const replicas = await readyReplicas(stack, renter, id, 2);
  const parisReplica = replicas.find((r) => r.nodeId === paris.nodeId);
  if (!parisReplica || !replicas.some((r) => r.nodeId === newYork.nodeId))
    throw new Error('failover bench: replicas not on Paris and New York');
  const parisPort = await waitFor('Paris replica port', async () => replicaPorts(paris).get(parisReplica.id));
  const results: StreamResult[] = [];
  let stop = false;
  let exitedAt = Number.POSITIVE_INFINITY;
  let afterExit = 0;
  const caller = async () => {
    while (!stop) {
      const r = await streamTokens(endpointUrl(stack, id, '/v1/stream?n=5&delayMs=20'), { key, location: PARIS });
      results.push(r);
      if (r.startedAt > exitedAt) afterExit++;
    }
  };
  const load = Promise.all(Array.from({ length: 6 }, caller));
  await waitFor(
    'steady load on the Paris replica',
    async () => (results.filter((r) => r.port === parisPort && r.done).length >= 20 ? true : undefined),
    60_000,
  );
  const killedAt = Date.now();
  await crash(paris);
  exitedAt = Date.now();
  await waitFor('100 requests after the kill', async () => (afterExit >= 100 ? true : undefined), 120_000);
  stop = true;
  await load;
  await renter.call('DELETE', `/v1/endpoints/${id}`);
  const firstOk = Math.min(...results.filter((r) => r.startedAt >= killedAt && r.done).map((r) => r.endedAt));
  const startedAfter = results.filter((r) => r.startedAt > exitedAt);
  const lost = startedAfter.filter((r) => !r.done).length;
  const cut = results.filter((r) => r.startedAt < killedAt && r.endedAt >= killedAt && !r.done).length;
  return [
    {
      name: 'failover: kill → next successful request',
      value: firstOk - killedAt,
      unit: 'ms',
      note: 'first request started after SIGKILL to complete (6 callers in Paris, 2 replicas: Paris, New York)',
    },
    {
      name: 'failover: requests lost after the death was detectable',
      value: lost,
      unit: 'requests',
      note: `of ${startedAfter.length} started after the agent's exit was seen (goal: 0)`,
    },
    {
      name: 'failover: requests cut mid-stream by the kill',
      value: cut,
      unit: 'requests',
      note: 'in flight on the killed replica: they end with an error, never silently short',
    },
  ];
}

async function coldStartRows(renter: E2eRenter, stack: LocalStack): Promise<BenchRow[]> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { id, key } = await createEndpoint(renter, {
      name: `bench-cold-${i}`,
      replicas: { min: 0, max: 1 },
      regions: [NEW_YORK],
      scaling: { idleS: 60 },
    });
    const set = (await endpointOf(renter, id)).replicaSet;
    if (set.length > 0) throw new Error('cold start bench: the endpoint already has a replica');
    const at = await ttfb(endpointUrl(stack, id, '/v1/stream?n=1&delayMs=0'), {
      authorization: `Bearer ${key}`,
      'x-gridplane-client-location': `${NEW_YORK.lat},${NEW_YORK.lon}`,
    });
    samples.push(at);
    await renter.call('DELETE', `/v1/endpoints/${id}`);
  }
  return [
    {
      name: 'cold start from zero, first byte',
      value: quantile(samples, 0.5),
      unit: 'ms',
      note: `median of 3 (${samples.map((s) => Math.round(s)).join(', ')} ms): wake, placement, process start, health check, ready`,
    },
  ];
}

export async function endpointBench(stack: LocalStack): Promise<BenchRow[]> {
  const [paris, newYork] = await Promise.all([
    readyAgent(stack, { name: 'bench-ep-paris', ...PARIS, country: 'FR', simulateGpus: 'RTX 4090x4' }),
    readyAgent(stack, { name: 'bench-ep-new-york', ...NEW_YORK, country: 'US', simulateGpus: 'RTX 4090x4' }),
  ]);
  try {
    for (const a of [paris, newYork])
      await waitFor(`${a.nodeId} tunnel`, async () => (a.output().includes('"tunnel_open"') ? true : undefined));
    const renter = await newRenter(stack, '1000.000000');
    const overhead = await overheadRows(stack, renter, paris);
    const cold = await coldStartRows(renter, stack);
    const failover = await failoverRows(stack, renter, paris, newYork);
    return [...overhead, ...failover, ...cold];
  } finally {
    await Promise.all([paris.stop(), newYork.stop()]);
  }
}
