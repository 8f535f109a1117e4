// Over 300 lines: one scenario on one local stack with four real agents (start costs a minute): streaming, failover, replacement, scale to zero, the bill; split, each file would start its own stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { waitFor, type AgentProcess } from './agent-process.ts';
import { newRenter, readyAgent, reconciled, type E2eRenter, type ReadyAgent } from './jobs-helpers.ts';
import {
  LONDON,
  NEW_YORK,
  PARIS,
  TOKYO,
  capturesOf,
  crash,
  endpointOf,
  endpointRequest,
  endpointUrl,
  openStackDb,
  replicaPorts,
  replicaRows,
  streamTokens,
  tickUntil,
  type StreamResult,
} from './endpoints-helpers.ts';

// Inference endpoints on the real local stack (issue 12): the control plane (`npm start`), four
// real agents with the process runtime and simulated GPUs — Paris, Tokyo, New York, and London as
// the spare — each replica a real Node server streaming tokens over SSE
// (fixtures/sse-replica.mjs). The endpoint is created through the API, reached at /e/{id}/…
// through the gateway and each node's tunnel, and billed from the replicas' ready time.
//
// The cron is ours to fire (stack.runCron, like the deployed trigger): the local timer is off
// (LOCAL_CRON_INTERVAL_S=0), so each step's effect follows the tick that causes it.

let stack: LocalStack;
const agents: AgentProcess[] = [];
const previousCron = process.env.LOCAL_CRON_INTERVAL_S;

beforeAll(async () => {
  process.env.LOCAL_CRON_INTERVAL_S = '0';
  stack = await startLocalStack({
    // 2 s, not 1: four agents, the stack and the test share two cores here, and a heartbeat late
    // by three intervals takes a live node offline (and its replicas with it).
    HEARTBEAT_INTERVAL_S: '2',
    HEARTBEAT_SHARDS: '4',
    // The smallest values config allows, so stuck and dead replicas are replaced in seconds.
    ENDPOINT_REPLICA_START_TIMEOUT_S: '10',
    ENDPOINT_REPLICA_UNHEALTHY_S: '10',
    ENDPOINT_COLD_START_WAIT_S: '20',
  });
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await stack?.stop();
  if (previousCron === undefined) delete process.env.LOCAL_CRON_INTERVAL_S;
  else process.env.LOCAL_CRON_INTERVAL_S = previousCron;
});

interface Fleet {
  paris: ReadyAgent;
  tokyo: ReadyAgent;
  newYork: ReadyAgent;
  london: ReadyAgent;
}
let fleet: Fleet;
let renter: E2eRenter;

async function startFleet(): Promise<Fleet> {
  const [paris, tokyo, newYork, london] = await Promise.all([
    readyAgent(stack, { name: 'paris', ...PARIS, country: 'FR', simulateGpus: 'RTX 4090x2' }),
    readyAgent(stack, { name: 'tokyo', ...TOKYO, country: 'JP', simulateGpus: 'RTX 4090x2' }),
    readyAgent(stack, { name: 'new-york', ...NEW_YORK, country: 'US', simulateGpus: 'RTX 4090x2' }),
    readyAgent(stack, { name: 'london', ...LONDON, country: 'GB', simulateGpus: 'RTX 4090x2' }),
  ]);
  agents.push(paris, tokyo, newYork, london);
  for (const a of [paris, tokyo, newYork, london])
    await waitFor(`${a.nodeId} tunnel`, async () => (a.output().includes('"tunnel_open"') ? true : undefined));
  return { paris, tokyo, newYork, london };
}

/** The port of the replica `agent` runs for this endpoint (from the agent's log). */
function portOn(agent: AgentProcess, replicaIds: string[]): number | undefined {
  const ports = replicaPorts(agent);
  for (const id of replicaIds) if (ports.has(id)) return ports.get(id);
  return undefined;
}

/** The status, or a failure that shows the body and the stack's last log lines. */
async function expectStatus(res: Response, status: number): Promise<void> {
  if (res.status !== status)
    expect.fail(`${res.status} ${await res.text()}\n--- stack log ---\n${stack.logs().split('\n').slice(-40).join('\n')}`);
}

const streamPath = (n: number, delayMs: number) => `/v1/stream?n=${n}&delayMs=${delayMs}`;

describe('inference endpoints end to end', () => {
  let endpointId: string;
  let key: string;
  let parisPort: number;

  it('creates an endpoint through the API and runs a replica in Paris, Tokyo and New York', { timeout: 180_000 }, async () => {
    fleet = await startFleet();
    renter = await newRenter(stack, '100.000000');
    const created = await renter.call(
      'POST',
      '/v1/endpoints',
      endpointRequest({ replicas: { min: 3, max: 3 }, regions: [PARIS, TOKYO, NEW_YORK], scaling: { targetInflight: 50 } }),
      {
        'Idempotency-Key': 'e2e-endpoint-1',
      },
    );
    await expectStatus(created, 201);
    endpointId = ((await created.json()) as { id: string }).id;
    const issued = await renter.call('POST', `/v1/endpoints/${endpointId}/keys`, { name: 'e2e' });
    await expectStatus(issued, 201);
    key = ((await issued.json()) as { key: string }).key;

    const ready = await tickUntil(stack, 'three ready replicas', async () => {
      const ep = await endpointOf(renter, endpointId);
      return ep.replicaSet.filter((r) => r.ready).length === 3 ? ep.replicaSet : undefined;
    });
    expect(new Set(ready.map((r) => r.nodeId))).toEqual(new Set([fleet.paris.nodeId, fleet.tokyo.nodeId, fleet.newYork.nodeId]));
    parisPort = portOn(
      fleet.paris,
      ready.map((r) => r.id),
    )!;
    expect(parisPort).toBeGreaterThan(0);
  });

  it('sends a caller in Paris to the Paris replica and streams the tokens one by one', async () => {
    const result = await streamTokens(endpointUrl(stack, endpointId, streamPath(5, 400)), { key, location: PARIS });
    expect(result.error).toBeNull();
    expect(result.status).toBe(200);
    expect(result.port).toBe(parisPort);
    expect(result.done).toBe(true);
    expect(result.chunks.map((c) => c.i)).toEqual([0, 1, 2, 3, 4]);
    // Each token reached the caller before the replica had even written the next one: nothing
    // on the way (gateway, tunnel object, agent) held the stream back.
    for (let i = 0; i + 1 < result.chunks.length; i++) expect(result.chunks[i]!.receivedAt).toBeLessThan(result.chunks[i + 1]!.sentAt);

    // Without a key, or with a wrong one: 401.
    expect((await fetch(endpointUrl(stack, endpointId, '/v1/ping'))).status).toBe(401);
    expect((await fetch(endpointUrl(stack, endpointId, '/v1/ping'), { headers: { authorization: 'Bearer gpk_wrong' } })).status).toBe(401);
  });

  it('tells the replica when the caller hangs up mid-stream', async () => {
    const stats = async () => (await (await fetch(`http://127.0.0.1:${parisPort}/stats`)).json()) as { started: number; aborted: number };
    const before = await stats();
    const caller = new AbortController();
    const result = await streamTokens(endpointUrl(stack, endpointId, streamPath(50, 200)), {
      key,
      location: PARIS,
      signal: caller.signal,
      onChunk: (c) => {
        if (c.i === 1) caller.abort();
      },
    });
    expect(result.port).toBe(parisPort);
    expect(result.done).toBe(false);
    expect(result.chunks.length).toBe(2);
    // The caller's hang-up crossed the gateway, the tunnel (RESET) and the agent to the server.
    const after = await waitFor('the replica to see its request aborted', async () => {
      const s = await stats();
      return s.aborted > before.aborted ? s : undefined;
    });
    expect(after.started).toBe(before.started + 1);
  });

  it('keeps serving when the Paris agent dies under load: new requests go elsewhere, in-flight ones end with an error, a replacement is placed', {
    timeout: 180_000,
  }, async () => {
    const results: StreamResult[] = [];
    const openOnParis = new Set<object>();
    let killedAt = Number.POSITIVE_INFINITY;
    let startedAfterKill = 0;
    let stop = false;
    const caller = async () => {
      while (!stop) {
        const token = {};
        const started = Date.now();
        if (started > killedAt) startedAfterKill++;
        const r = await streamTokens(endpointUrl(stack, endpointId, streamPath(10, 150)), {
          key,
          location: PARIS,
          onHead: (port) => {
            if (port === parisPort) openOnParis.add(token);
          },
        });
        openOnParis.delete(token);
        results.push(r);
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, caller));
    await waitFor('two streams open on the Paris replica', async () => (openOnParis.size >= 2 ? true : undefined));
    await crash(fleet.paris);
    killedAt = Date.now();
    await waitFor('fifteen requests started after the kill', async () => (startedAfterKill >= 15 ? true : undefined), 60_000);
    stop = true;
    await load;

    const after = results.filter((r) => r.startedAt > killedAt);
    expect(after.length).toBeGreaterThanOrEqual(15);
    for (const r of after) {
      expect(r.error).toBeNull();
      expect(r.status).toBe(200);
      expect(r.done).toBe(true);
      expect(r.port).not.toBe(parisPort);
    }
    // Those the Paris replica was streaming when its agent died: cut off with an error, none hung
    // (they all ended) and none passed for complete.
    const cut = results.filter((r) => r.port === parisPort && r.startedAt <= killedAt && r.endedAt >= killedAt && !r.done);
    expect(cut.length).toBeGreaterThanOrEqual(1);
    for (const r of cut) {
      expect(r.error).not.toBeNull();
      expect(r.chunks.length).toBeLessThan(10);
    }

    // The cron sees the node gone and places a replacement on London, the spare nearest Paris.
    const replaced = await tickUntil(stack, 'a ready replacement on the London node', async () => {
      const ep = await endpointOf(renter, endpointId);
      const onLondon = ep.replicaSet.find((r) => r.nodeId === fleet.london.nodeId && r.ready);
      return onLondon && !ep.replicaSet.some((r) => r.nodeId === fleet.paris.nodeId) && ep.replicaSet.length === 3 ? onLondon : undefined;
    });
    const londonPort = await waitFor('the London replica port', async () => portOn(fleet.london, [replaced.id]));
    // A caller in London gets it. Each try comes from a new 5° caller cell around London: the
    // gateway learns time to first byte per (cell, replica), and on loopback every replica answers
    // as fast as any other, so a cell that already sent traffic elsewhere may rightly keep doing so.
    const near = [LONDON, { lat: 55.95, lon: -3.19 }, { lat: 53.35, lon: -6.26 }, { lat: 52.37, lon: 4.9 }, { lat: 47.22, lon: -1.55 }]; // Edinburgh, Dublin, Amsterdam, Nantes
    let served: StreamResult | undefined;
    for (const location of near) {
      served = await streamTokens(endpointUrl(stack, endpointId, streamPath(2, 10)), { key, location });
      if (served.port === londonPort) break;
    }
    expect(served!.done).toBe(true);
    expect(served!.port).toBe(londonPort);
  });

  it('scales to zero after its idle time and wakes on the next request', { timeout: 240_000 }, async () => {
    const patched = await renter.call('PATCH', `/v1/endpoints/${endpointId}`, { replicas: { min: 0 }, scaling: { idleS: 60 } });
    await expectStatus(patched, 200);
    // No request for 60 s: the cron stops every replica (it steps down to one first, then to zero).
    await tickUntil(
      stack,
      'no replica left',
      async () => ((await endpointOf(renter, endpointId)).replicaSet.length === 0 ? true : undefined),
      150_000,
    );
    const woken = await streamTokens(endpointUrl(stack, endpointId, streamPath(3, 10)), { key, location: PARIS });
    expect(woken.error).toBeNull();
    expect(woken.status).toBe(200);
    expect(woken.done).toBe(true);
    const ep = await endpointOf(renter, endpointId);
    expect(ep.replicaSet.filter((r) => r.ready).length).toBe(1);
  });

  it('bills every replica exactly to the base unit: billed ready time × price, operator + fee = charge, never past a receipt', {
    timeout: 180_000,
  }, async () => {
    await expectStatus(await renter.call('DELETE', `/v1/endpoints/${endpointId}`), 200);
    const db = openStackDb(stack);
    try {
      // Every replica stopped, and billed up to what it was ready for and signed (the stopped
      // replicas' last receipts come after the stop; the crashed Paris agent sent none).
      // A replica's final receipt comes once its server has stopped, after the row is stopped.
      const settled = (x: ReturnType<typeof replicaRows>[number]) =>
        x.stopped_at !== null &&
        x.billed_ms === Math.min(x.ready_ms, x.receipt_ready_ms) &&
        (x.node_id === fleet.paris.nodeId || x.ready_ms === 0 || x.receipt_ready_ms > 0);
      const rows = await tickUntil(stack, 'every replica stopped and billed', async () => {
        const r = replicaRows(db, endpointId);
        return r.every(settled) ? r : undefined;
      });
      expect(rows.length).toBeGreaterThanOrEqual(5); // Paris, Tokyo, New York, London, the woken one
      const params = (await (await fetch(`${stack.url}/v1/governance/params`)).json()) as { params: { name: string; value: string }[] };
      const feeBps = Number(params.params.find((p) => p.name === 'protocol_fee_bps')!.value);
      const owners = new Map(Object.values(fleet).map((a) => [a.nodeId, a.operator.accountId]));
      let charged = 0;
      for (const r of rows) {
        // Receipts go out every 30 s and when a replica ends; the crashed agent's last one may
        // cover less than its ready time, or nothing: that much is not billed.
        if (r.node_id !== fleet.paris.nodeId && r.ready_ms > 0) expect(r.billed_ms).toBeGreaterThan(0);
        expect(r.billed_ms).toBeLessThanOrEqual(r.receipt_ready_ms);
        expect(r.price_per_gpu_hour).toBe(1_250_000);
        const amount = Math.floor((r.price_per_gpu_hour * r.gpu_count * r.billed_ms) / 3_600_000);
        const fee = Math.floor((amount * feeBps) / 10_000);
        expect(r.billed_amount).toBe(amount);
        expect(r.billed_fee).toBe(fee);
        // The ledger: taken from the endpoint's hold, the operator's share and the fee, per replica.
        const lines = capturesOf(db, r.id);
        expect((lines.get(`escrow:${endpointId}`) ?? 0) + amount).toBe(0);
        expect(lines.get(owners.get(r.node_id)!) ?? 0).toBe(amount - fee);
        expect(lines.get('system:fees') ?? 0).toBe(fee);
        expect(lines.size).toBe(amount === 0 ? 0 : fee > 0 ? 3 : 2);
        charged += amount;
      }
      // The renter paid exactly the sum: what is not in the balance is in the hold or was billed.
      const hold = Number(
        (
          db.prepare('SELECT coalesce(sum(amount), 0) AS v FROM ledger_entries WHERE account_id = ?').get(`escrow:${endpointId}`) as {
            v: number;
          }
        ).v,
      );
      expect((await renter.balance()) + hold).toBe(100_000_000 - charged);
      expect(await reconciled(stack)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('never routes to a replica that never becomes healthy: the caller gets 503 with Retry-After, the cron replaces it, nothing is billed', {
    timeout: 180_000,
  }, async () => {
    const created = await renter.call(
      'POST',
      '/v1/endpoints',
      endpointRequest({ name: 'never-healthy', env: { FIXTURE_HEALTH: 'never' }, regions: [TOKYO] }),
    );
    await expectStatus(created, 201);
    const id = ((await created.json()) as { id: string }).id;
    const k = ((await (await renter.call('POST', `/v1/endpoints/${id}/keys`, {})).json()) as { key: string }).key;
    const first = await tickUntil(stack, 'a replica starting', async () =>
      (await endpointOf(renter, id)).replicaSet.find((r) => r.state === 'starting'),
    );

    const [answer] = await Promise.all([
      fetch(endpointUrl(stack, id, '/v1/ping'), {
        headers: { authorization: `Bearer ${k}`, 'x-gridplane-client-location': `${TOKYO.lat},${TOKYO.lon}` },
      }),
      // Stuck past ENDPOINT_REPLICA_START_TIMEOUT_S: stopped and another placed.
      tickUntil(stack, 'the stuck replica replaced', async () => {
        const set = (await endpointOf(renter, id)).replicaSet;
        return set.length === 1 && set[0]!.id !== first.id ? true : undefined;
      }),
    ]);
    const refusal = (await answer.json()) as { error: { code: string; message: string } };
    expect(answer.status).toBe(503);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refusal.error.code, refusal.error.message).toBe('cold_start_timeout');

    await expectStatus(await renter.call('DELETE', `/v1/endpoints/${id}`), 200);
    const db = openStackDb(stack);
    try {
      const rows = await tickUntil(stack, 'its replicas stopped', async () => {
        const r = replicaRows(db, id);
        return r.every((x) => x.stopped_at !== null) ? r : undefined;
      });
      expect(rows.find((r) => r.id === first.id)!.reason).toBe('start_timeout');
      for (const r of rows) {
        expect(r.ready_ms).toBe(0);
        expect(r.billed_amount).toBe(0);
      }
    } finally {
      db.close();
    }
  });
});
