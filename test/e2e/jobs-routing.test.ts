import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { waitFor, type AgentProcess } from './agent-process.ts';
import { baseUnits, expectedBill, newRenter, readyAgent, reconciled, waitForStatus } from './jobs-helpers.ts';

// The real local control plane and two real agents in simulate mode, one in Paris and one in
// Tokyo. A renter in Paris gets the Paris node; the job runs through the process runtime, its
// logs arrive with the secret redacted, the bill is exact to the base unit, the ledger reconciles.

let stack: LocalStack;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '1', HEARTBEAT_SHARDS: '4' });
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await stack?.stop();
});

const nodeStatus = async (id: string) => ((await (await fetch(`${stack.url}/v1/nodes/${id}`)).json()) as { status?: string }).status;

describe('jobs end to end', () => {
  it('routes a Paris renter to the Paris node, runs the job, streams logs and bills exactly', async () => {
    // Both nodes are staked and verified (their agents answer the hardware challenge themselves).
    const [paris, tokyo] = await Promise.all([
      readyAgent(stack, { name: 'paris', lat: 48.86, lon: 2.35, country: 'FR', simulateGpus: 'RTX 4090x1' }),
      readyAgent(stack, { name: 'tokyo', lat: 35.68, lon: 139.69, country: 'JP', simulateGpus: 'RTX 4090x1' }),
    ]);
    agents.push(paris, tokyo);
    await waitFor('both nodes online', async () =>
      (await nodeStatus(paris.nodeId)) === 'online' && (await nodeStatus(tokyo.nodeId)) === 'online' ? true : undefined,
    );
    // The stream is open once the agent logs it.
    await waitFor('paris job stream', async () => (paris.output().includes('stream_open') ? true : undefined));

    const quote = (await (
      await fetch(`${stack.url}/v1/quotes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ gpu: { model: '4090', count: 1 }, durationS: 60, client: { lat: 48.85, lon: 2.35 } }),
      })
    ).json()) as { candidates: { nodeId: string; estRttMs: number }[] };
    expect(quote.candidates.map((c) => c.nodeId).slice(0, 2)).toEqual([paris.nodeId, tokyo.nodeId]);
    expect(quote.candidates[0]!.estRttMs).toBeLessThan(quote.candidates[1]!.estRttMs);

    const renter = await newRenter(stack);
    const script = "console.log('hello from the job'); console.log('token ' + process.env.SECRET_TOKEN); setTimeout(() => {}, 1500)";
    const res = await renter.call('POST', '/v1/jobs', {
      gpu: { model: 'RTX 4090', count: 1 },
      durationS: 60,
      image: 'python:3.12-slim',
      command: [process.execPath, '-e', script],
      env: { SECRET_TOKEN: 's3cr3t-value-xyz' },
      client: { lat: 48.85, lon: 2.35 },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, any>;
    expect(created.nodeId).toBe(paris.nodeId);

    const done = await waitForStatus(renter, created.id, ['succeeded', 'failed'], 30_000);
    expect(done.status).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    const logs = (await (await renter.call('GET', `/v1/jobs/${created.id}/logs`)).json()) as { logs: { data: string }[] };
    const text = logs.logs.map((l) => l.data).join('');
    expect(text).toContain('hello from the job');
    expect(text).toContain('token [redacted]');
    expect(text).toContain('SIMULATED');
    expect(text).not.toContain('s3cr3t-value-xyz');
    expect(paris.output()).not.toContain('s3cr3t-value-xyz');

    const escrow = baseUnits(created.escrow);
    expect(escrow).toBe(20_834); // ceil(1.25 tokens × 60 s / 3600)
    const bill = expectedBill(1_250_000, escrow, done.billing.billedGpuSeconds);
    expect(done.billing.billedGpuSeconds).toBeGreaterThanOrEqual(1);
    expect(done.billing.billedGpuSeconds).toBeLessThanOrEqual(done.billing.receiptGpuSeconds);
    expect(baseUnits(done.billing.captured)).toBe(bill.captured);
    expect(baseUnits(done.billing.fee)).toBe(bill.fee);
    expect(baseUnits(done.billing.refunded)).toBe(bill.refunded);
    expect(await renter.balance()).toBe(100_000_000 - bill.captured);
    expect(await reconciled(stack)).toBe(true);
  });
});
