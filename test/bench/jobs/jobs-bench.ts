// The jobs bench on the local stack: quote time, D1 rows read and routing quality at 1k/10k/100k
// nodes (quote-scale.ts, through the real POST /v1/quotes), and the time from POST /v1/jobs to
// the agent holding the job, over the signed WebSocket stream and over heartbeat answers.
import { identityFromPkcs8, type Identity } from '../../../edge-agent/src/identity.ts';
import { runJobStream } from '../../../edge-agent/src/jobs/job-stream.ts';
import { createMemoryLogger } from '../../../edge-agent/src/log.ts';
import { createSignedFetch } from '../../../edge-agent/src/signed-fetch.ts';
import { answerChallenges } from '../../../edge-agent/src/verification/challenge-runner.ts';
import type { BenchRow } from '../bench-table.ts';
import { cpuRows, quoteCpu } from './quote-cpu.ts';
import { quoteScale, scaleRows } from './quote-scale.ts';

export interface StackRef {
  url: string;
  adminToken: string;
}

const httpOf = (stack: StackRef) => (path: string, init?: RequestInit) => fetch(`${stack.url}${path}`, init);

export async function quoteBench(stack: StackRef, sizes = [1_000, 10_000, 100_000]): Promise<BenchRow[]> {
  const points = await quoteScale(httpOf(stack), {
    seed: 20261121,
    sizes,
    quotesPerSize: 100,
    adminToken: stack.adminToken,
    prefix: 'bench-',
  });
  return scaleRows(points, 'local stack, HTTP round trip');
}

/** The quote's own CPU at the same sizes, in Node over the same candidate sets (quote-cpu.ts). */
export async function quoteCpuBench(sizes = [1_000, 10_000, 100_000]): Promise<BenchRow[]> {
  return cpuRows(await quoteCpu({ seed: 20261121, sizes, renters: 100 }));
}

async function newIdentity(): Promise<Identity> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return identityFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

/** Submission → the agent has the job: pushed over the stream, and by polling heartbeats. */
export async function dispatchBench(stack: StackRef, jobs = 20): Promise<BenchRow[]> {
  const identity = await newIdentity();
  const send = createSignedFetch(identity, stack.url);
  // An L40S node on its own, ready for jobs as an operator makes one (own account, hardware
  // challenge answered, minimum stake bonded): the seeded registry has none, so every job lands here.
  const operator = (await (await fetch(`${stack.url}/v1/dev/accounts`, { method: 'POST' })).json()) as {
    accountId: string;
    apiKey: string;
    wallet: string;
  };
  const reg = await send({
    method: 'POST',
    path: '/v1/nodes',
    body: {
      owner: operator.wallet,
      name: 'bench-dispatch',
      gpus: [{ model: 'NVIDIA L40S', vramMb: 46_068, count: 1, simulated: true }],
      location: { lat: 48.14, lon: 11.58, country: 'DE' },
      pricePerGpuHour: '1.000000',
      agentVersion: '0.1.0',
    },
  });
  if (!reg.ok) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const [verified] = await answerChallenges({ send, nodeId: identity.nodeId, simulated: true });
  if (verified?.status !== 'passed') throw new Error(`verification: ${JSON.stringify(verified)}`);
  const params = (await (await fetch(`${stack.url}/v1/governance/params`)).json()) as { params: { name: string; value: string }[] };
  const stake = params.params.find((p) => p.name === 'min_stake_per_gpu')!.value;
  await fetch(`${stack.url}/v1/dev/faucet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: operator.accountId, amount: stake }),
  });
  const staked = await fetch(`${stack.url}/v1/staking/stake`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operator.apiKey}`, 'content-type': 'application/json', 'Idempotency-Key': 'bench-dispatch' },
    body: JSON.stringify({ nodeId: identity.nodeId, amount: stake }),
  });
  if (staked.status !== 201) throw new Error(`stake: ${staked.status} ${await staked.text()}`);
  const account = (await (await fetch(`${stack.url}/v1/dev/accounts`, { method: 'POST' })).json()) as { accountId: string; apiKey: string };
  await fetch(`${stack.url}/v1/dev/faucet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: account.accountId, amount: '1000.000000' }),
  });
  const renter = (path: string, body?: unknown) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const jobBody = { gpu: { model: 'L40S', count: 1 }, durationS: 60, image: 'bench', command: ['true'], client: { lat: 48.1, lon: 11.6 } };

  const received = new Map<string, number>();
  const controller = new AbortController();
  const stream = runJobStream({
    identity,
    controlPlaneUrl: stack.url,
    path: `/v1/nodes/${identity.nodeId}/stream`,
    log: createMemoryLogger(),
    signal: controller.signal,
    onJob: (job) => received.set((job as { id: string }).id, performance.now()),
    onStop: () => undefined,
  });
  await new Promise((r) => setTimeout(r, 500));
  const pushed: number[] = [];
  const polled: number[] = [];
  try {
    for (let i = 0; i < jobs; i++) {
      const started = performance.now();
      const res = await renter('/v1/jobs', jobBody);
      if (res.status !== 201) throw new Error(`job: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      for (let w = 0; !received.has(id) && w < 200; w++) await new Promise((r) => setTimeout(r, 5));
      if (received.has(id)) pushed.push(received.get(id)! - started);
      // The heartbeat path: the next heartbeat answer carries it (here sent at once).
      const hbStart = performance.now();
      const hb = await send({
        method: 'POST',
        path: `/v1/nodes/${identity.nodeId}/heartbeat`,
        body: { gpus: [], probes: [], runningJobs: [] },
      });
      const answer = (await hb.json()) as { jobs: { id: string }[] };
      if (answer.jobs.some((j) => j.id === id)) polled.push(performance.now() - hbStart + (hbStart - started));
      await renter(`/v1/jobs/${id}/cancel`);
    }
  } finally {
    controller.abort();
    await Promise.race([stream, new Promise((r) => setTimeout(r, 2000))]);
  }
  return [
    {
      name: 'job submitted → agent has it (WebSocket push)',
      value: median(pushed),
      unit: 'ms',
      note: `median of ${pushed.length}; max ${Math.max(...pushed).toFixed(1)} ms`,
    },
    {
      name: 'job submitted → in a heartbeat answer',
      value: median(polled),
      unit: 'ms',
      note: `median of ${polled.length}, heartbeat sent right after submission; without the stream add up to one heartbeat interval`,
    },
  ];
}
