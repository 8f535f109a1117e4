import { and, eq, inArray, isNull } from 'drizzle-orm';
import { endpointReplicas, type ReplicaRowState } from '../../db/schema.ts';
import type { TunnelControlToWorker } from '../../protocol/tunnel.ts';
import type { Env } from '../env.ts';
import { endpointsContext } from './endpoints-context.ts';
import { changeReplica, type ReplicaPatch, type ReplicaRow } from './replica-change.ts';
import { verifyReplicaReceipt, type ReplicaReceiptMessage } from './replica-receipt.ts';

export { verifyReplicaReceipt, type ReplicaReceiptMessage };

// What the node's tunnel object (workers/tunnel, helper T) hands over from the agent. Each call
// is one D1 batch (per replica): the state change and the bill of ready time up to it. Time is
// judged on the Worker's clock (`nowMs`); the agent's `at` is only part of what a receipt signs.

export type ReplicaStateMessage = Extract<TunnelControlToWorker, { type: 'replica_state' }>;

export interface ReportResult {
  /** False when the report was ignored (unknown replica, another node's, stopped) or changed nothing. */
  applied: boolean;
  reason?: 'unknown_replica' | 'other_node' | 'stopped' | 'bad_signature' | 'not_higher' | 'unchanged';
}

const AGENT_STATE_TO_ROW: Record<ReplicaStateMessage['state'], ReplicaRowState> = {
  starting: 'starting',
  ready: 'ready',
  unhealthy: 'unhealthy',
  // The agent stopped or gave up on a replica it was asked to run: the cron replaces it.
  stopped: 'failed',
  failed: 'failed',
};

/** The pure decision for a state report: the patch, or why it is ignored. */
export function statePatch(row: ReplicaRow, nodeId: string, msg: ReplicaStateMessage): ReplicaPatch | NonNullable<ReportResult['reason']> {
  if (row.nodeId !== nodeId) return 'other_node';
  if (row.stoppedAt !== null) return 'stopped';
  const state = AGENT_STATE_TO_ROW[msg.state];
  const reason = msg.state === 'stopped' ? (msg.reason ?? 'stopped by the agent') : (msg.reason ?? null);
  if (state === row.state && (row.readySince !== null) === (state === 'ready')) return 'unchanged';
  return { state, reason, ready: state === 'ready' };
}

export async function recordReplicaState(env: Env, nodeId: string, msg: ReplicaStateMessage, nowMs: number): Promise<ReportResult> {
  const ctx = endpointsContext(env);
  let ignored: ReportResult['reason'];
  const outcome = await changeReplica(
    ctx,
    msg.replicaId,
    (row) => {
      const decided = statePatch(row, nodeId, msg);
      ignored = typeof decided === 'string' ? decided : undefined;
      // An unchanged report still bills what is due; a foreign or stopped replica's is ignored whole.
      if (decided === 'unchanged') return {};
      return typeof decided === 'string' ? null : decided;
    },
    nowMs,
  );
  if (!outcome) return { applied: false, reason: 'unknown_replica' };
  if (ignored) return { applied: false, reason: ignored };
  return outcome.changed ? { applied: true } : { applied: false, reason: 'unchanged' };
}

/**
 * Keeps the highest signed count of ready milliseconds (billing never goes past it) and bills
 * what it unlocks. Receipts for stopped replicas still count: the last one before a stop covers
 * ready time the Worker saw before the stop, and billing never passes the observed time anyway.
 */
export async function recordReplicaReceipt(env: Env, nodeId: string, msg: ReplicaReceiptMessage, nowMs: number): Promise<ReportResult> {
  if (!(await verifyReplicaReceipt(nodeId, msg))) return { applied: false, reason: 'bad_signature' };
  const ctx = endpointsContext(env);
  let ignored: ReportResult['reason'];
  const outcome = await changeReplica(
    ctx,
    msg.replicaId,
    (row) => {
      ignored = row.nodeId !== nodeId ? 'other_node' : msg.readyMs <= row.receiptReadyMs ? 'not_higher' : undefined;
      return ignored ? null : { receipt: { readyMs: msg.readyMs, at: msg.at, signature: msg.signature } };
    },
    nowMs,
  );
  if (!outcome) return { applied: false, reason: 'unknown_replica' };
  if (ignored === 'other_node') return { applied: false, reason: ignored };
  return outcome.changed ? { applied: true } : { applied: false, reason: ignored ?? 'unchanged' };
}

const REACHABLE: ReplicaRowState[] = ['placed', 'starting', 'ready', 'unhealthy'];

/**
 * The node's tunnel closed: its live replicas cannot be reached, so their ready periods end now
 * (not billed until the agent reports ready again) and the gateway stops routing to them. One
 * batch per replica, each with the bill up to now.
 */
export async function recordTunnelDown(env: Env, nodeId: string, nowMs: number): Promise<{ replicas: number }> {
  const ctx = endpointsContext(env);
  const live = await ctx.db
    .select({ id: endpointReplicas.id })
    .from(endpointReplicas)
    .where(and(eq(endpointReplicas.nodeId, nodeId), isNull(endpointReplicas.stoppedAt), inArray(endpointReplicas.state, REACHABLE)))
    .all();
  let changed = 0;
  for (const { id } of live) {
    const outcome = await changeReplica(
      ctx,
      id,
      (row) =>
        row.nodeId === nodeId && row.stoppedAt === null && REACHABLE.includes(row.state)
          ? { state: 'unreachable', reason: 'tunnel_down', ready: false }
          : null,
      nowMs,
    );
    if (outcome?.changed) changed++;
  }
  return { replicas: changed };
}
