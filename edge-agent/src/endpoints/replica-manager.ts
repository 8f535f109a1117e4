// Runs the endpoint replicas the control plane wants on this node. Each `replicas` control message
// is the node's whole desired set: the manager starts what is missing, stops what is no longer
// wanted (or restarts it when its spec changed), and reports every state change as a
// `replica_state` message and each replica's ready time as a signed `replica_receipt`
// (protocol/tunnel.ts). One replica's life (start, health, restarts) is replica-run.ts.
import type { ReplicaState, TunnelControlToWorker } from '../../../protocol/tunnel.ts';
import type { Identity } from '../identity.ts';
import type { GpuPool } from '../jobs/gpu-pool.ts';
import type { ContainerRuntime } from '../jobs/runtime.ts';
import type { Logger } from '../log.ts';
import { freeLoopbackPort } from './free-port.ts';
import { signReplicaReceipt } from './replica-receipt.ts';
import { runReplica, type ReplicaHandle } from './replica-run.ts';
import { checkReplicaSpec, type AgentReplicaSpec } from './replica-spec.ts';
import { DEFAULT_REPLICA_TIMING, type ReplicaTiming } from './replica-timing.ts';

export interface ReplicaManagerOptions {
  runtime: ContainerRuntime;
  /** The GPUs this agent shares with its job runner. */
  gpus: GpuPool;
  /** Signs receipts with the node's key. */
  identity: Identity;
  /** Messages to the Worker (the tunnel's `send`); dropped there while the tunnel is down. */
  send(message: TunnelControlToWorker): void;
  log: Logger;
  now?: () => number;
  timing?: Partial<ReplicaTiming>;
  /** The loopback port for a replica's server; default: one the kernel says is free. */
  pickPort?: () => Promise<number>;
}

export interface ReplicaView {
  replicaId: string;
  state: ReplicaState;
  reason?: string;
  port: number | null;
  readyMs: number;
}

interface Replica extends ReplicaHandle {
  /** The spec as received, to tell a changed spec from the same one sent again. */
  key: string;
  /** Set when the replica left the desired set; `quiet` when a new spec of the same id replaces it. */
  retired: { quiet: boolean } | null;
  readyTotalMs: number;
  readySince: number | null;
  done: Promise<void>;
}

export class ReplicaManager {
  readonly #o: ReplicaManagerOptions & { now: () => number; timing: ReplicaTiming; pickPort: () => Promise<number> };
  /** The desired replicas, by id. */
  readonly #replicas = new Map<string, Replica>();
  /** Replicas being stopped: out of the desired set, their processes not yet gone. */
  readonly #retiring = new Set<Replica>();
  readonly #receipts: ReturnType<typeof setInterval>;
  /** Receipts being signed: shutdown waits for them, so the last ones go out before the tunnel closes. */
  readonly #signing = new Set<Promise<void>>();
  #closed = false;

  constructor(options: ReplicaManagerOptions) {
    this.#o = { now: Date.now, pickPort: freeLoopbackPort, ...options, timing: { ...DEFAULT_REPLICA_TIMING, ...options.timing } };
    this.#receipts = setInterval(() => this.#sendReceipts(), this.#o.timing.receiptIntervalMs);
    this.#receipts.unref?.();
  }

  /**
   * The node's whole desired set (a `replicas` control message). The Worker sends it on every
   * (re)connect, so replicas already running re-announce their state: a change reported while the
   * tunnel was down reaches the Worker that way.
   */
  apply(specs: readonly unknown[]): void {
    if (this.#closed) return;
    const wanted = new Map<string, { key: string; spec: AgentReplicaSpec | null; reason?: string }>();
    for (const raw of specs) {
      const checked = checkReplicaSpec(raw);
      const id = checked.ok ? checked.spec.replicaId : checked.replicaId;
      if (id === null) {
        this.#o.log.warn('replica_unreadable', `ignored a replica spec that names no replica: ${checked.ok ? '' : checked.reason}`);
        continue;
      }
      if (wanted.has(id)) continue; // the first of two specs with one id wins
      wanted.set(
        id,
        checked.ok ? { key: specKey(checked.spec), spec: checked.spec } : { key: JSON.stringify(raw), spec: null, reason: checked.reason },
      );
    }
    for (const [id, replica] of this.#replicas) {
      const next = wanted.get(id);
      if (next === undefined || next.key !== replica.key) this.#retire(replica, { quiet: next !== undefined });
    }
    for (const [id, next] of wanted) {
      const current = this.#replicas.get(id);
      if (current) this.#announce(current);
      else this.#add(id, next.key, next.spec, next.reason);
    }
  }

  /** The loopback port of a replica that serves (ready or unhealthy), for the tunnel client; else null. */
  portOf(replicaId: string): number | null {
    const replica = this.#replicas.get(replicaId);
    if (!replica || (replica.state !== 'ready' && replica.state !== 'unhealthy')) return null;
    return replica.port;
  }

  list(): ReplicaView[] {
    return [...this.#replicas.values()].map((r) => ({
      replicaId: r.id,
      state: r.state,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      port: r.port,
      readyMs: this.#readyMs(r),
    }));
  }

  /** Stops every replica and waits until their processes are gone; takes no desired set after. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#receipts);
    for (const replica of this.#replicas.values()) this.#retire(replica, { quiet: false });
    await Promise.all([...this.#retiring].map((r) => r.done));
    await Promise.all(this.#signing);
  }

  #add(id: string, key: string, spec: AgentReplicaSpec | null, refusal?: string): void {
    // A replaced replica of the same id hands over its ready time (receipts never go down) and
    // its name and GPUs once its process is gone.
    const previous = [...this.#retiring].findLast((r) => r.id === id);
    const replica: Replica = {
      id,
      key,
      state: 'starting',
      port: null,
      stop: new AbortController(),
      retired: null,
      readyTotalMs: previous ? this.#readyMs(previous) : 0,
      readySince: null,
      done: Promise.resolve(),
      setState: (state, reason) => this.#setState(replica, state, reason),
    };
    this.#replicas.set(id, replica);
    if (spec === null) {
      this.#o.log.warn('replica_refused', `replica ${id}: refused, nothing runs: ${refusal}`, { replica: id });
      this.#setState(replica, 'failed', `refused by the agent: ${refusal}`);
      return;
    }
    this.#report(replica, 'starting', previous ? 'restarting with a new spec' : undefined);
    const { runtime, gpus, log, now, timing, pickPort } = this.#o;
    replica.done = (previous?.done ?? Promise.resolve())
      .then(() => runReplica(replica, spec, { runtime, gpus, log, now, timing, pickPort }))
      .catch((err: unknown) => this.#setState(replica, 'failed', `agent error: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.#ended(replica));
  }

  #retire(replica: Replica, how: { quiet: boolean }): void {
    if (replica.retired) return;
    this.#stopClock(replica);
    replica.retired = how;
    this.#replicas.delete(replica.id);
    this.#retiring.add(replica);
    void replica.done.then(() => this.#retiring.delete(replica));
    replica.stop.abort();
    this.#o.log.info(
      'replica_stop',
      `replica ${replica.id}: stopping (${how.quiet ? 'its spec changed' : this.#closed ? 'agent stopping' : 'no longer wanted'})`,
      { replica: replica.id },
    );
  }

  /** The replica's process is gone (or never ran): a final receipt, and `stopped` when it was retired. */
  #ended(replica: Replica): void {
    replica.port = null;
    this.#stopClock(replica);
    if (replica.retired && !replica.retired.quiet && replica.state !== 'failed') this.#report(replica, 'stopped', undefined);
    this.#receipt(replica);
  }

  #setState(replica: Replica, state: ReplicaState, reason: string | undefined): void {
    if (replica.retired) return; // after retirement only #ended speaks for it
    if (state === replica.state && reason === replica.reason) return;
    if (state === 'ready' && replica.readySince === null) replica.readySince = this.#o.now();
    if (state !== 'ready') this.#stopClock(replica);
    this.#report(replica, state, reason);
  }

  #report(replica: Replica, state: ReplicaState, reason: string | undefined): void {
    replica.state = state;
    replica.reason = reason;
    const tag = this.#o.runtime.simulated ? 'SIMULATED ' : '';
    const line = `${tag}replica ${replica.id}: ${state}${reason ? ` (${reason})` : ''}`;
    if (state === 'failed' || state === 'unhealthy') this.#o.log.warn(`replica_${state}`, line, { replica: replica.id });
    else this.#o.log.info(`replica_${state}`, line, { replica: replica.id, port: replica.port ?? undefined });
    this.#announce(replica);
  }

  #announce(replica: Replica): void {
    const reason =
      replica.reason === undefined ? {} : { reason: replica.reason.length > 512 ? `${replica.reason.slice(0, 511)}…` : replica.reason };
    this.#send({ type: 'replica_state', replicaId: replica.id, state: replica.state, ...reason, at: this.#o.now() });
  }

  #readyMs(replica: Replica): number {
    return Math.floor(replica.readyTotalMs + (replica.readySince === null ? 0 : this.#o.now() - replica.readySince));
  }

  #stopClock(replica: Replica): void {
    if (replica.readySince === null) return;
    replica.readyTotalMs += this.#o.now() - replica.readySince;
    replica.readySince = null;
  }

  #sendReceipts(): void {
    for (const replica of this.#replicas.values()) this.#receipt(replica);
  }

  /** Receipts are cumulative, so one lost on the way is made good by the next. */
  #receipt(replica: Replica): void {
    const readyMs = this.#readyMs(replica);
    if (readyMs === 0) return;
    const signing = signReplicaReceipt(this.#o.identity, replica.id, readyMs, this.#o.now()).then(
      (receipt) => this.#send(receipt),
      (err: unknown) =>
        this.#o.log.error(
          'replica_receipt_failed',
          `replica ${replica.id}: could not sign a receipt: ${err instanceof Error ? err.message : String(err)}`,
        ),
    );
    this.#signing.add(signing);
    void signing.finally(() => this.#signing.delete(signing));
  }

  #send(message: TunnelControlToWorker): void {
    try {
      this.#o.send(message);
    } catch (err) {
      this.#o.log.warn('replica_send_failed', `could not send ${message.type}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * The same spec sent again has the same key, however its env was ordered on the way (the parsed
 * spec's other fields come in the schema's order); any real change gives another key.
 */
function specKey(spec: AgentReplicaSpec): string {
  return JSON.stringify({ ...spec, env: Object.fromEntries(Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) });
}
