import { env } from 'cloudflare:workers';
import { bytesToBase64 } from '../../../protocol/signed-request.ts';
import { replicaReceiptMessage } from '../../../protocol/tunnel.ts';
import { endpointsContext } from '../../../workers/endpoints/endpoints-context.ts';
import { endpointCreateSchema } from '../../../workers/endpoints/endpoint-input.schema.ts';
import { createEndpoint, deleteEndpoint, endpointOfAccount, patchEndpoint } from '../../../workers/endpoints/endpoints.service.ts';
import { recordReplicaReceipt, recordReplicaState, recordTunnelDown } from '../../../workers/endpoints/replica-reports.ts';
import type { Violation } from './sim-invariants.ts';
import type { SimAccount, World } from './sim-world.ts';

// The endpoint billing path in the simulator (README.md "Operations"): renters create endpoints
// (with Idempotency-Key, sometimes retried), scale or delete them; the nodes' agents report their
// replicas' states and sign receipts of cumulative ready time (honest, or inflated: billing must
// cap it at what the Worker saw), resend reports, and lose their tunnel when the node dies. The
// cron ticks of the simulator bill, scale, top up holds and stop unpaid endpoints (tend.ts).

/** What the simulator needs of its driver (sim-run.ts `Sim`). */
export interface SimDriver {
  world: World;
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T | undefined;
  key(what: string): string;
  fault(kind: 'duplicate_request' | 'duplicate_event'): void;
  log(line: string): void;
  seen: Violation[];
  attempt<T>(label: string, run: () => Promise<T>, crashable?: boolean): Promise<{ ok: true; value: T } | { ok: false; code: string }>;
}

interface SimEndpoint {
  id: string;
  renter: SimAccount;
}

/** The agent's own count of a replica's ready time (its clock is the simulated one). */
interface AgentReplica {
  readySince: number | null;
  readyMs: number;
  receipts: number;
}

export class SimEndpoints {
  readonly endpoints: SimEndpoint[] = [];
  private readonly agent = new Map<string, AgentReplica>();
  private readonly tunnelDown = new Set<string>();

  constructor(private readonly sim: SimDriver) {}

  private get w() {
    return this.sim.world;
  }

  async step(): Promise<void> {
    const roll = this.sim.int(100);
    if (roll < 20 || this.endpoints.length === 0) return this.create();
    if (roll < 90) return this.report();
    if (roll < 97) return this.patch();
    return this.remove();
  }

  async create(): Promise<void> {
    const renter = this.sim.pick(this.w.accounts)!;
    const near = this.sim.pick(this.w.nodes)!;
    const min = this.sim.int(2);
    const request = endpointCreateSchema.parse({
      name: 'sim',
      image: 'python:3.12-slim',
      port: 8000,
      gpu: { model: 'RTX 4090', count: 1 },
      replicas: { min, max: min + 1 + this.sim.int(2) },
      regions: [{ lat: near.lat, lon: near.lon }],
      maxPricePerGpuHour: '2.0',
      scaling: { targetInflight: 4, idleS: this.sim.chance(0.5) ? null : 60 + this.sim.int(600) },
    });
    const idem = `${renter.account.accountId}:${this.sim.key('endpoint')}`;
    const run = () =>
      createEndpoint(
        endpointsContext(this.w.env, this.w.db),
        { accountId: renter.account.accountId, request, regions: request.regions ?? [], maxPrice: 2_000_000n, idempotencyKey: idem },
        this.w.now,
      );
    let r = await this.sim.attempt('endpoint create', run);
    if (!r.ok && r.code === 'crash') r = await this.sim.attempt('endpoint create retry', run);
    else if (r.ok && this.sim.chance(0.25)) {
      this.sim.fault('duplicate_request');
      const again = await this.sim.attempt('endpoint create retry', run);
      this.sim.log(
        `endpoint create retry (same Idempotency-Key) → ${again.ok ? (again.value.replayed ? 'replayed' : 'NEW ENDPOINT') : again.code}`,
      );
      if (again.ok && (!again.value.replayed || again.value.endpoint.id !== r.value.endpoint.id)) {
        this.sim.seen.push({
          invariant: 'idempotency: a retried endpoint create made a second endpoint',
          detail: { idem, first: r.value.endpoint.id, retry: again.value.endpoint.id },
        });
      }
    }
    this.sim.log(
      `endpoint create ${renter.name} min ${request.replicas.min} max ${request.replicas.max} → ${r.ok ? r.value.endpoint.id.slice(0, 12) : r.code}`,
    );
    if (r.ok && !this.endpoints.some((e) => e.id === r.value.endpoint.id)) this.endpoints.push({ id: r.value.endpoint.id, renter });
  }

  /** One agent report about one live replica: a state change, a receipt, a resend, or its tunnel closing. */
  async report(): Promise<void> {
    const live = (
      await env.DB.prepare('SELECT id, node_id AS nodeId, state FROM endpoint_replicas WHERE stopped_at IS NULL ORDER BY id').all<{
        id: string;
        nodeId: string;
        state: string;
      }>()
    ).results;
    const replica = this.sim.pick(live);
    if (!replica) return;
    const node = this.w.nodes.find((n) => n.agent.nodeId === replica.nodeId);
    if (!node) return;
    if (!node.alive) {
      // The node died: its tunnel closes once (the tunnel object reports it), its replicas stop being ready.
      if (this.tunnelDown.has(node.agent.nodeId)) return;
      this.tunnelDown.add(node.agent.nodeId);
      for (const [id, a] of this.agent) if (live.some((l) => l.id === id && l.nodeId === node.agent.nodeId)) this.agentStops(a);
      const r = await this.sim.attempt('tunnel down', () => recordTunnelDown(this.w.env, node.agent.nodeId, this.w.now));
      this.sim.log(`${node.name} tunnel down → ${r.ok ? `${r.value.replicas} replicas` : r.code}`);
      return;
    }
    this.tunnelDown.delete(node.agent.nodeId);
    const a = this.agentOf(replica.id);
    // Not ready on the agent: it reports its next state (mostly ready: the health check passed).
    // Ready: mostly a receipt, sometimes unhealthy (or a repeat of ready).
    if (a.readySince === null || this.sim.chance(0.3)) {
      const state: 'starting' | 'ready' | 'unhealthy' | 'failed' =
        a.readySince === null
          ? this.sim.chance(0.08)
            ? 'failed'
            : this.sim.chance(0.25)
              ? 'starting'
              : 'ready'
          : this.sim.chance(0.7)
            ? 'unhealthy'
            : 'ready';
      if (state === 'ready' && a.readySince === null) a.readySince = this.w.now;
      if (state !== 'ready') this.agentStops(a);
      const msg = { type: 'replica_state' as const, replicaId: replica.id, state, at: this.w.now };
      const r = await this.sim.attempt(`replica ${state}`, () => recordReplicaState(this.w.env, node.agent.nodeId, msg, this.w.now));
      this.sim.log(
        `${node.name} replica ${replica.id.slice(0, 12)} ${state} → ${r.ok ? (r.value.applied ? 'applied' : r.value.reason) : r.code}`,
      );
      if (this.sim.chance(0.2) || (!r.ok && r.code === 'crash')) {
        this.sim.fault('duplicate_event');
        const again = await this.sim.attempt('replica state resend', () =>
          recordReplicaState(this.w.env, node.agent.nodeId, msg, this.w.now),
        );
        this.sim.log(`resend ${state} → ${again.ok ? (again.value.applied ? 'applied' : again.value.reason) : again.code}`);
      }
      return;
    }
    // A receipt of the agent's cumulative ready ms: honest, or inflated (billing caps it at what the Worker saw).
    const honest = a.readyMs + (a.readySince === null ? 0 : this.w.now - a.readySince);
    const readyMs = this.sim.chance(0.2) ? honest * 3 + 60_000 : honest;
    const at = ++a.receipts;
    const key = node.agent.keyPair.privateKey;
    const signature = bytesToBase64(
      new Uint8Array(
        await crypto.subtle.sign(
          'Ed25519',
          key,
          new TextEncoder().encode(replicaReceiptMessage(node.agent.nodeId, replica.id, readyMs, at)),
        ),
      ),
    );
    const msg = { type: 'replica_receipt' as const, replicaId: replica.id, readyMs, at, signature };
    const r = await this.sim.attempt('replica receipt', () => recordReplicaReceipt(this.w.env, node.agent.nodeId, msg, this.w.now));
    this.sim.log(
      `${node.name} receipt ${replica.id.slice(0, 12)} ${readyMs}ms${readyMs !== honest ? ' (inflated)' : ''} → ${r.ok ? (r.value.applied ? 'applied' : r.value.reason) : r.code}`,
    );
    if (this.sim.chance(0.2) || (!r.ok && r.code === 'crash')) {
      this.sim.fault('duplicate_event');
      const again = await this.sim.attempt('receipt resend', () => recordReplicaReceipt(this.w.env, node.agent.nodeId, msg, this.w.now));
      this.sim.log(`resend receipt → ${again.ok ? (again.value.applied ? 'applied' : again.value.reason) : again.code}`);
    }
  }

  private agentOf(id: string): AgentReplica {
    let a = this.agent.get(id);
    if (!a) this.agent.set(id, (a = { readySince: null, readyMs: 0, receipts: 0 }));
    return a;
  }

  private agentStops(a: AgentReplica) {
    if (a.readySince !== null) a.readyMs += this.w.now - a.readySince;
    a.readySince = null;
  }

  /** For the trace: how much of the endpoint path a seed exercised. */
  async summary(): Promise<string> {
    const r = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM endpoints) AS endpoints, (SELECT count(*) FROM endpoint_replicas) AS replicas,
              (SELECT count(*) FROM ledger_transactions WHERE kind = 'capture' AND ref LIKE 'endpoint:%') AS bills,
              (SELECT count(*) FROM endpoints WHERE status = 'stopped') AS stopped`,
    ).first<Record<string, number>>();
    return `endpoints ${r?.endpoints}, replicas ${r?.replicas}, replica bills ${r?.bills}, stopped unpaid ${r?.stopped}`;
  }

  async patch(): Promise<void> {
    const e = this.sim.pick(this.endpoints)!;
    const min = this.sim.int(3);
    const patch = this.sim.chance(0.2) ? { status: 'active' as const } : { replicas: { min, max: min + this.sim.int(2) || 1 } };
    const ctx = endpointsContext(this.w.env, this.w.db);
    const r = await this.sim.attempt('endpoint patch', async () =>
      patchEndpoint(ctx, await endpointOfAccount(ctx, e.renter.account.accountId, e.id), patch, null, this.w.now),
    );
    this.sim.log(`endpoint patch ${e.id.slice(0, 12)} ${JSON.stringify(patch)} → ${r.ok ? 'ok' : r.code}`);
  }

  async remove(): Promise<void> {
    const e = this.sim.pick(this.endpoints)!;
    const ctx = endpointsContext(this.w.env, this.w.db);
    const r = await this.sim.attempt('endpoint delete', async () =>
      deleteEndpoint(ctx, await endpointOfAccount(ctx, e.renter.account.accountId, e.id), this.w.now),
    );
    this.sim.log(`endpoint delete ${e.id.slice(0, 12)} → ${r.ok ? r.value.status : r.code}`);
  }
}
