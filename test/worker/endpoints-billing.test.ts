import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { bytesToBase64 } from '../../protocol/signed-request.ts';
import { replicaReceiptMessage } from '../../protocol/tunnel.ts';
import { getConfig } from '../../workers/config.ts';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { endpointCreateSchema } from '../../workers/endpoints/endpoint-input.schema.ts';
import { createEndpoint } from '../../workers/endpoints/endpoints.service.ts';
import { desiredSetOf } from '../../workers/endpoints/node-replicas.ts';
import { recordReplicaReceipt, recordReplicaState, recordTunnelDown } from '../../workers/endpoints/replica-reports.ts';
import { routingEntry } from '../../workers/endpoints/routing-table.repo.ts';
import { tendEndpoint } from '../../workers/endpoints/tend.ts';
import { wakeEndpoint } from '../../workers/endpoints/wake.ts';
import { getParams } from '../../workers/governance/params.repo.ts';
import type { TestAgent } from './helpers/agent.ts';
import { newRenter, nodeAt, type ReadyNode } from './helpers/jobs.ts';
import { balanceOf, expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { linkTelegram } from './helpers/operator.ts';
import { eventually, sentTo } from './helpers/telegram.ts';

// Endpoint replicas billed from the tunnel's reports (workers/endpoints/replica-reports.ts) and
// the cron (tend.ts), against real D1 and the real ledger: per ready millisecond at the price
// frozen at placement, never past the node's signed receipt, nothing for time not ready, nothing
// twice. Receipts are signed here with the node's key, as the agent signs them.

const T0 = Date.UTC(2030, 0, 1);
const PRICE = 1_250_000; // the test node's 1.25 tokens per GPU-hour, in base units

async function endpointFor(accountId: string, overrides: Record<string, unknown> = {}, regions = [{ lat: 48.86, lon: 2.34 }], nowMs = T0) {
  const request = endpointCreateSchema.parse({
    name: 'llm',
    image: 'python:3.12-slim',
    port: 8000,
    gpu: { model: 'RTX 4090', count: 1 },
    maxPricePerGpuHour: '2.0',
    ...overrides,
  });
  const ctx = endpointsContext(env);
  return (await createEndpoint(ctx, { accountId, request, regions, maxPrice: 2_000_000n, idempotencyKey: null }, nowMs)).endpoint;
}

async function receipt(node: TestAgent, replicaId: string, readyMs: number, at: number) {
  const sig = await crypto.subtle.sign(
    'Ed25519',
    node.keyPair.privateKey,
    new TextEncoder().encode(replicaReceiptMessage(node.nodeId, replicaId, readyMs, at)),
  );
  return { type: 'replica_receipt' as const, replicaId, readyMs, at, signature: bytesToBase64(new Uint8Array(sig)) };
}

const state = (replicaId: string, s: 'starting' | 'ready' | 'unhealthy' | 'failed' | 'stopped', at = 0) => ({
  type: 'replica_state' as const,
  replicaId,
  state: s,
  at,
});

async function replicaRow(id: string) {
  return (await env.DB.prepare('SELECT * FROM endpoint_replicas WHERE id = ?1').bind(id).first<Record<string, number | string | null>>())!;
}

async function captures(endpointId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM ledger_transactions WHERE ref = ?1 AND kind = 'capture'")
    .bind(`endpoint:${endpointId}`)
    .first<{ n: number }>();
  return row!.n;
}

/** Lines the renter's Telegram chat received (alerts that arrive together share a message, a line each). */
const chatLines = async (chatId: number) => (await sentTo(chatId)).flatMap((c) => String(c.body.text).split('\n'));

const feeOf = async (amount: number) => Math.floor((amount * (await getParams(testDb(), getConfig(env))).protocol_fee_bps) / 10_000);

let node: ReadyNode;
async function parisNode(): Promise<ReadyNode> {
  node ??= await nodeAt(48.86, 2.34, 'FR', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 4 }] });
  return node;
}

describe('endpoint replicas: placement, reports and the bill', () => {
  it('wakes an endpoint onto an eligible node, holds for it, and gives the node its desired set', async () => {
    const paris = await parisNode();
    const renter = await newRenter('100.000000');
    const endpoint = await endpointFor(renter.accountId, { replicas: { min: 0, max: 2 } });
    const woke = await wakeEndpoint(env, endpoint.id, T0);
    expect(woke.reason).toBe('placed');
    expect(woke.placed).toHaveLength(1);
    const replicaId = woke.placed[0]!;
    expect(await replicaRow(replicaId)).toMatchObject({ node_id: paris.nodeId, state: 'placed', price_per_gpu_hour: PRICE, gpu_count: 1 });
    // The hold: HOLD_AHEAD_S of one replica at the price cap, taken from the renter.
    const hold = Math.ceil((2_000_000 * getConfig(env).ENDPOINT_HOLD_AHEAD_S) / 3600);
    expect(await balanceOf(`escrow:${endpoint.id}`)).toBe(hold);
    expect(await balanceOf(renter.accountId)).toBe(100_000_000 - hold);
    const specs = await desiredSetOf(endpointsContext(env), paris.nodeId);
    expect(specs.find((s) => s.replicaId === replicaId)).toMatchObject({
      endpointId: endpoint.id,
      image: 'python:3.12-slim',
      port: 8000,
      healthPath: '/health',
      gpus: { count: 1 },
    });
    // A second wake finds it running and places nothing.
    expect((await wakeEndpoint(env, endpoint.id, T0 + 1000)).reason).toBe('running');
    const entry = await routingEntry(testDb(), endpoint.id);
    expect(entry).toMatchObject({ endpointId: endpoint.id, accountId: renter.accountId, public: false, status: 'active', keyHashes: [] });
    expect(entry!.replicas.map((r) => [r.replicaId, r.nodeId, r.nodeOnline, r.lat])).toEqual([[replicaId, paris.nodeId, true, 48.86]]);
  });

  it('bills ready time exactly, never past the signed receipt, never twice, and nothing while not ready', async () => {
    const paris = await parisNode();
    const renter = await newRenter('100.000000');
    const endpoint = await endpointFor(renter.accountId, { replicas: { min: 0, max: 1 } });
    const replicaId = (await wakeEndpoint(env, endpoint.id, T0)).placed[0]!;
    const operatorBefore = await balanceOf(paris.operator.accountId);
    const feesBefore = await balanceOf('system:fees');

    expect(await recordReplicaState(env, paris.nodeId, state(replicaId, 'starting'), T0 + 5_000)).toEqual({ applied: true });
    expect(await recordReplicaState(env, paris.nodeId, state(replicaId, 'ready'), T0 + 10_000)).toEqual({ applied: true });
    // Ready 60 s on our clock, and the node signed for 60 s: 1.25 tokens/h × 60 s = 20 833 base units (rounded down).
    expect(await recordReplicaReceipt(env, paris.nodeId, await receipt(paris, replicaId, 60_000, 1), T0 + 70_000)).toEqual({
      applied: true,
    });
    const first = Math.floor((PRICE * 60_000) / 3_600_000);
    expect(first).toBe(20_833);
    expect(await replicaRow(replicaId)).toMatchObject({ billed_ms: 60_000, billed_amount: first, billed_fee: await feeOf(first) });
    expect(await balanceOf(paris.operator.accountId)).toBe(operatorBefore + first - (await feeOf(first)));
    expect(await balanceOf('system:fees')).toBe(feesBefore + (await feeOf(first)));

    // The same receipt again, and the cron at the same instant: nothing more.
    expect(await recordReplicaReceipt(env, paris.nodeId, await receipt(paris, replicaId, 60_000, 1), T0 + 70_000)).toEqual({
      applied: false,
      reason: 'not_higher',
    });
    await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 70_000);
    expect(await captures(endpoint.id)).toBe(1);

    // A receipt beyond what the Worker saw bills only what it saw (80 s ready at T0+90s).
    expect(await recordReplicaReceipt(env, paris.nodeId, await receipt(paris, replicaId, 200_000, 2), T0 + 90_000)).toEqual({
      applied: true,
    });
    expect(await replicaRow(replicaId)).toMatchObject({ billed_ms: 80_000, receipt_ready_ms: 200_000 });
    // Unhealthy from T0+100s: the 10 s before it are billed by the change itself, nothing after.
    await recordReplicaState(env, paris.nodeId, state(replicaId, 'unhealthy'), T0 + 100_000);
    await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 160_000);
    const total = Math.floor((PRICE * 90_000) / 3_600_000);
    expect(await replicaRow(replicaId)).toMatchObject({
      state: 'unhealthy',
      billed_ms: 90_000,
      billed_amount: total,
      ready_ms: 90_000,
      ready_since: null,
    });

    // A forged receipt and another node's report change nothing.
    const forged = { ...(await receipt(paris, replicaId, 500_000, 3)), readyMs: 600_000 };
    expect(await recordReplicaReceipt(env, paris.nodeId, forged, T0 + 170_000)).toEqual({ applied: false, reason: 'bad_signature' });
    const stranger = await nodeAt(48.8, 2.3, 'FR');
    expect(await recordReplicaState(env, stranger.nodeId, state(replicaId, 'ready'), T0 + 170_000)).toEqual({
      applied: false,
      reason: 'other_node',
    });
    expect(await recordReplicaReceipt(env, stranger.nodeId, await receipt(stranger, replicaId, 900_000, 4), T0 + 170_000)).toEqual({
      applied: false,
      reason: 'other_node',
    });
    expect(await replicaRow(replicaId)).toMatchObject({ receipt_ready_ms: 200_000, billed_ms: 90_000, state: 'unhealthy' });

    // Ready again, then the tunnel drops: the ready period ends there.
    await recordReplicaState(env, paris.nodeId, state(replicaId, 'ready'), T0 + 180_000);
    // (Other tests' replicas share the node: every reachable one of them goes unreachable too.)
    expect((await recordTunnelDown(env, paris.nodeId, T0 + 195_000)).replicas).toBeGreaterThanOrEqual(1);
    const afterDown = await replicaRow(replicaId);
    expect(afterDown).toMatchObject({ state: 'unreachable', ready_ms: 105_000, ready_since: null, billed_ms: 105_000 });
    expect(afterDown.billed_amount).toBe(Math.floor((PRICE * 105_000) / 3_600_000));
    // Operator + fees got exactly what the hold lost.
    const billed = afterDown.billed_amount as number;
    const fee = afterDown.billed_fee as number;
    expect(await balanceOf(paris.operator.accountId)).toBe(operatorBefore + billed - fee);
    expect(await balanceOf('system:fees')).toBe(feesBefore + fee);
    expect(fee).toBeGreaterThanOrEqual((await feeOf(billed)) - 3);
    await expectLedgerReconciles();
  });

  it('stops replicas that cannot be paid for, gives their GPUs back, and releases the rest of the hold', async () => {
    const paris = await parisNode();
    const renter = await newRenter('0.100000'); // all of it goes into the hold: 288 s at the node's 1.25 tokens/h
    const chatId = await linkTelegram(renter.accountId);
    const endpoint = await endpointFor(renter.accountId, { replicas: { min: 1, max: 1 } });
    expect((await wakeEndpoint(env, endpoint.id, T0)).reason).toBe('placed');
    const [replica] = (
      await testDb().$client.prepare('SELECT id FROM endpoint_replicas WHERE endpoint_id = ?1').bind(endpoint.id).all<{ id: string }>()
    ).results;
    const committed = async () =>
      (await env.DB.prepare('SELECT count(*) AS n FROM gpu_commitments WHERE job_id = ?1').bind(replica!.id).first<{ n: number }>())!.n;
    expect(await committed()).toBe(1);
    await recordReplicaState(env, paris.nodeId, state(replica!.id, 'ready'), T0 + 1_000);
    await recordReplicaReceipt(env, paris.nodeId, await receipt(paris, replica!.id, 200_000, 1), T0 + 201_000);
    // 200 s billed (69 444); what is left covers less than the stop margin and the renter has
    // nothing to refill it with: the cron stops the endpoint.
    expect(await balanceOf(renter.accountId)).toBe(0);
    const result = await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 201_000);
    expect(result.status).toBe('stopped');
    const row = await env.DB.prepare('SELECT status, status_reason, low_balance_alerted_at FROM endpoints WHERE id = ?1')
      .bind(endpoint.id)
      .first();
    expect(row).toMatchObject({ status: 'stopped', status_reason: 'insufficient_funds' });
    expect(await replicaRow(replica!.id)).toMatchObject({
      state: 'stopped',
      reason: 'insufficient_funds',
      billed_ms: 200_000,
      billed_amount: 69_444,
    });
    expect(await committed()).toBe(0);
    // The renter hears it in their chat: out of balance, and stopped.
    const held = (100_000 - 69_444) / 1e6;
    await eventually(async () =>
      expect(await chatLines(chatId)).toEqual([
        `🪫 Your endpoint llm (${endpoint.id}) has run out of balance (0 tokens on your balance, ${held} held): its replicas stop now.`,
        `⏹ Your endpoint llm (${endpoint.id}) stopped: your balance ran out. Nothing runs or is billed now; what is left of its hold goes back to your balance. Top up and set it active again to restart it.`,
      ]),
    );
    // Once no replica can bill any more (after the grace), the rest of the hold goes back.
    const holdLeft = await balanceOf(`escrow:${endpoint.id}`);
    const renterBefore = await balanceOf(renter.accountId);
    await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 201_000 + 61_000);
    expect(await balanceOf(`escrow:${endpoint.id}`)).toBe(0);
    expect(await balanceOf(renter.accountId)).toBe(renterBefore + holdLeft);
    await expectLedgerReconciles();
  });

  it('scales to zero after the idle time and wakes again', async () => {
    await parisNode();
    const renter = await newRenter('100.000000');
    const endpoint = await endpointFor(renter.accountId, { replicas: { min: 1, max: 2 }, scaling: { targetInflight: 4, idleS: 60 } });
    const placed = await tendEndpoint(endpointsContext(env), endpoint.id, T0);
    expect(placed).toMatchObject({ placed: 1, desired: 1 });
    const idle = await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 61_000);
    expect(idle).toMatchObject({ stopped: 1, desired: 0, placed: 0 });
    expect((await routingEntry(testDb(), endpoint.id))!.replicas).toHaveLength(0);
    expect((await wakeEndpoint(env, endpoint.id, T0 + 62_000)).reason).toBe('placed');
    // Just woken: the next tick keeps it.
    expect(await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 63_000)).toMatchObject({ stopped: 0, desired: 1 });
  });
  it('tells the renter in their Telegram chat that the balance runs low while the replicas still run, once', async () => {
    await nodeAt(48.85, 2.35, 'FR', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }] });
    const renter = await newRenter('1.000000');
    const chatId = await linkTelegram(renter.accountId);
    const endpoint = await endpointFor(renter.accountId, { name: 'low-llm', replicas: { min: 1, max: 1 } });
    // One new replica counts at the 2.0 cap: the hold takes 900 s of it (0.5 tokens); the 1 token
    // in all covers 30 min, under the hour (ENDPOINT_LOW_BALANCE_S) that alerts, over the stop margin.
    expect(await tendEndpoint(endpointsContext(env), endpoint.id, T0)).toMatchObject({ placed: 1, status: 'active' });
    const line = await eventually(async () => {
      const lines = await chatLines(chatId);
      expect(lines).toHaveLength(1);
      return lines[0]!;
    });
    expect(line).toBe(
      `🪫 Your endpoint low-llm (${endpoint.id}) has about 30 min of balance left at its current replicas (0.5 tokens on your balance, 0.5 held). /deposit to top up, or its replicas stop when it runs out.`,
    );
    // One alert per episode: the next tick, still low, leaves the episode's mark as it was.
    expect(await tendEndpoint(endpointsContext(env), endpoint.id, T0 + 60_000)).toMatchObject({ status: 'active' });
    expect(await env.DB.prepare('SELECT status, low_balance_alerted_at FROM endpoints WHERE id = ?1').bind(endpoint.id).first()).toEqual({
      status: 'active',
      low_balance_alerted_at: T0,
    });
  });
});
