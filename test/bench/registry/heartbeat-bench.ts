// Heartbeats on the local stack, next to a trivial route on the same stack, and what they cost D1.
import { identityFromPkcs8, type Identity } from '../../../edge-agent/src/identity.ts';
import { createSignedFetch, type SignedFetch } from '../../../edge-agent/src/signed-fetch.ts';
import type { BenchRow } from '../bench-table.ts';
import { throughput } from '../bench-table.ts';

export interface StackRef {
  url: string;
  adminToken: string;
}

const OWNER = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

async function newIdentity(): Promise<Identity> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
}

async function expectOk(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

const heartbeatBody = (i: number) => ({
  gpus: [{ index: 0, utilPct: i % 100, memUsedMb: 1000, tempC: 50, powerW: 200 }],
  probes: [{ target: 'NRT', rttMs: 3 + (i % 7) }],
  runningJobs: [],
});

async function shardTotals(stack: StackRef): Promise<Record<string, number>> {
  const res = await fetch(`${stack.url}/v1/admin/shards`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return ((await res.json()) as { totals: Record<string, number> }).totals;
}

/**
 * `stack` must run with HEARTBEAT_INTERVAL_S=1 and LIVE_FOLD_INTERVAL_S=30: the production ratio
 * (30 s heartbeats, 900 s folds) compressed 30-fold so the D1 figure is measured, not computed.
 */
export async function heartbeatBench(
  stack: StackRef,
  opts = { nodes: 100, requests: 3000, concurrency: 16, steadySeconds: 32 },
): Promise<BenchRow[]> {
  const agents: { id: string; send: SignedFetch }[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const identity = await newIdentity();
    const send = createSignedFetch(identity, stack.url);
    await expectOk(
      await send({
        method: 'POST',
        path: '/v1/nodes',
        body: {
          owner: OWNER,
          name: `bench-${i}`,
          gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1, simulated: true }],
          location: { lat: -60 + (i % 120), lon: -170 + ((i * 37) % 340), country: 'US' },
          pricePerGpuHour: '1.000000',
          agentVersion: '0.1.0',
        },
      }),
      'register',
    );
    agents.push({ id: identity.nodeId, send });
  }

  // Same stack, same run: a trivial route, then signed heartbeats.
  const health = await throughput(opts.requests, opts.concurrency, async () => expectOk(await fetch(`${stack.url}/health`), 'health'));
  const heartbeats = await throughput(opts.requests, opts.concurrency, async (i) => {
    const agent = agents[i % agents.length]!;
    await expectOk(await agent.send({ method: 'POST', path: `/v1/nodes/${agent.id}/heartbeat`, body: heartbeatBody(i) }), 'heartbeat');
  });

  // Steady state: every node heartbeats once a second for a little over one fold interval.
  const before = await shardTotals(stack);
  const end = Date.now() + opts.steadySeconds * 1000;
  await Promise.all(
    agents.map(async (agent, n) => {
      await new Promise((r) => setTimeout(r, (n * 1000) / agents.length));
      for (let i = 0; Date.now() < end; i++) {
        const started = Date.now();
        await expectOk(await agent.send({ method: 'POST', path: `/v1/nodes/${agent.id}/heartbeat`, body: heartbeatBody(i) }), 'heartbeat');
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
      }
    }),
  );
  const after = await shardTotals(stack);
  const beats = (after.heartbeats ?? 0) - (before.heartbeats ?? 0);
  const rows = (after.d1_rows_written ?? 0) - (before.d1_rows_written ?? 0);
  const queries = (after.d1_queries ?? 0) - (before.d1_queries ?? 0);

  return [
    { name: 'GET /health (trivial route)', value: health, unit: 'req/s', note: `${opts.concurrency} in flight` },
    { name: 'signed heartbeats', value: heartbeats, unit: 'req/s', note: `${opts.nodes} nodes` },
    { name: 'heartbeat / trivial route', value: heartbeats / health, unit: 'ratio', note: 'the figure: 1.0 = as cheap as /health' },
    {
      name: 'D1 rows written per heartbeat',
      value: rows / Math.max(1, beats),
      unit: 'rows',
      note: `${rows} rows over ${beats} heartbeats; goal well under 0.1`,
    },
    {
      name: 'D1 queries per heartbeat',
      value: queries / Math.max(1, beats),
      unit: 'queries',
      note: 'folds are one json_each statement per shard',
    },
  ];
}
