import { and, eq, isNull } from 'drizzle-orm';
import { endpointReplicas, endpoints } from '../../db/schema.ts';
import { emitAlert } from '../alerts/emit-alert.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import { getEndpoint, type EndpointRow } from './endpoints.repo.ts';
import { balances, releaseHold, topUpHold } from './endpoint-hold.ts';
import { liveReplicasOf, placeReplicas, placementView, trafficIsPoorlyServed } from './endpoint-placement.ts';
import { pushNodes, tunnelOf } from './node-replicas.ts';
import { changeReplica, type ReplicaRow } from './replica-change.ts';
import { burnPerHour, costOfSeconds } from './replica-billing.ts';
import { desiredReplicas } from './scaling.ts';
import { keptForTraffic, rolloutPlan } from './rollout.ts';

// One endpoint's cron tick (workers/cron/endpoints.ts runs it for each endpoint to tend):
//   1. bill every replica's ready time up to now (and note which saw requests);
//   2. stop replicas that failed, whose node went offline, or that are stuck (start timeout,
//      unhealthy or unreachable too long), and, for a stopped/deleted endpoint, all of them;
//   3. decide how many replicas it wants (scaling.ts) and which to add or stop (rollout.ts);
//   4. keep the hold topped up for what will run; alert a low balance; stop everything when the
//      hold cannot cover the next minutes;
//   5. place what is missing (placement) and push the desired set of every node that changed.

export interface TendResult {
  billed: number;
  stopped: number;
  placed: number;
  desired: number;
  status: EndpointRow['status'];
}

/** The load the tunnels report, per replica; empty when the tunnel objects are not there (yet). */
async function loadOf(ctx: EndpointsContext, nodeIds: Iterable<string>): Promise<Map<string, { inflight: number; started: number }>> {
  const out = new Map<string, { inflight: number; started: number }>();
  for (const nodeId of new Set(nodeIds)) {
    try {
      const load = await tunnelOf(ctx, nodeId).load();
      for (const [id, c] of Object.entries(load.replicas)) out.set(id, { inflight: c.inflight, started: c.started });
    } catch (error) {
      console.error(`endpoints: load of node ${nodeId} not read`, error);
    }
  }
  return out;
}

function stopReason(r: ReplicaRow, nodeOnline: boolean, ctx: EndpointsContext, nowMs: number): string | null {
  if (r.state === 'failed') return r.reason ?? 'failed';
  if (!nodeOnline) return 'node_offline';
  if ((r.state === 'placed' || r.state === 'starting') && nowMs - r.placedAt > ctx.config.ENDPOINT_REPLICA_START_TIMEOUT_S * 1000)
    return 'start_timeout';
  if ((r.state === 'unhealthy' || r.state === 'unreachable') && nowMs - r.stateSince > ctx.config.ENDPOINT_REPLICA_UNHEALTHY_S * 1000)
    return `${r.state}_too_long`;
  return null;
}

export async function tendEndpoint(ctx: EndpointsContext, endpointId: string, nowMs: number): Promise<TendResult> {
  let endpoint = await getEndpoint(ctx.db, endpointId);
  if (!endpoint) return { billed: 0, stopped: 0, placed: 0, desired: 0, status: 'deleted' };
  if (endpoint.status === 'active' && endpoint.stopAt !== null && nowMs >= endpoint.stopAt) {
    // A template rental's time is up: stopped like an unpaid one (billed to now below, replicas
    // stopped, the rest of the hold released), so the tick after the end stops it. The same
    // UPDATE records the renter's `rental_ended` alert as owed (`end_alert_due`): an isolate that
    // dies after it leaves the debt in D1, and the next tick pays it (tellRentalEnded).
    // `stop_at <= now` in the UPDATE: an extension (extend-rental.ts) that moved the end since the
    // read wins, and the rental keeps running.
    await ctx.db.$client
      .prepare(
        "UPDATE endpoints SET status = 'stopped', status_reason = 'rental_ended', end_alert_due = stop_at, desired_replicas = 0, version = version + 1, updated_at = ?2 WHERE id = ?1 AND status = 'active' AND stop_at <= ?2",
      )
      .bind(endpointId, nowMs)
      .run();
    endpoint = (await getEndpoint(ctx.db, endpointId)) ?? endpoint;
  }
  const changedNodes = new Set<string>();
  let billed = 0;
  let stopped = 0;

  // 1. Bill, and read the tunnels' load.
  const live = await ctx.db
    .select()
    .from(endpointReplicas)
    .where(and(eq(endpointReplicas.endpointId, endpointId), isNull(endpointReplicas.stoppedAt)))
    .all();
  const load = await loadOf(
    ctx,
    live.map((r) => r.nodeId),
  );
  let inflight = 0;
  let active = false;
  const rows = new Map<string, ReplicaRow>();
  for (const r of live) {
    const l = load.get(r.id);
    if (l) {
      inflight += l.inflight;
      if (l.started !== r.requestsSeen || l.inflight > 0) active = true;
    }
    const outcome = await changeReplica(ctx, r.id, () => (l && l.started !== r.requestsSeen ? { requestsSeen: l.started } : {}), nowMs);
    if (outcome?.bill) billed++;
    if (outcome) rows.set(r.id, outcome.row);
  }
  // Stopped replicas whose last receipt came after the stop still have ready time to bill.
  const tail = await ctx.db.$client
    .prepare(
      'SELECT id FROM endpoint_replicas WHERE endpoint_id = ?1 AND stopped_at IS NOT NULL AND billed_ms < min(ready_ms, receipt_ready_ms) LIMIT 50',
    )
    .bind(endpointId)
    .all<{ id: string }>();
  for (const { id } of tail.results) if ((await changeReplica(ctx, id, () => ({}), nowMs))?.bill) billed++;
  if (active) {
    await ctx.db.update(endpoints).set({ lastActiveAt: nowMs }).where(eq(endpoints.id, endpointId)).run();
    endpoint = { ...endpoint, lastActiveAt: nowMs };
  }

  const stop = async (r: ReplicaRow, reason: string) => {
    const outcome = await changeReplica(ctx, r.id, (row) => (row.stoppedAt === null ? { stop: true, reason } : null), nowMs);
    if (outcome?.changed) {
      stopped++;
      changedNodes.add(r.nodeId);
      rows.delete(r.id);
    }
  };

  // 2. Stop what is broken, or everything when the endpoint is not active.
  const nodeStatus = new Map<string, boolean>();
  if (rows.size > 0) {
    const ids = JSON.stringify([...new Set([...rows.values()].map((r) => r.nodeId))]);
    const nodesRows = await ctx.db.$client
      .prepare("SELECT id, status = 'online' AND suspended = 0 AS ok FROM nodes WHERE id IN (SELECT value FROM json_each(?1))")
      .bind(ids)
      .all<{ id: string; ok: number }>();
    for (const n of nodesRows.results) nodeStatus.set(n.id, n.ok === 1);
  }
  for (const r of [...rows.values()]) {
    const reason =
      endpoint.status !== 'active' ? `endpoint_${endpoint.status}` : stopReason(r, nodeStatus.get(r.nodeId) ?? false, ctx, nowMs);
    if (reason) await stop(r, reason);
  }

  if (endpoint.status !== 'active') {
    await pushNodes(ctx, changedNodes);
    await maybeRelease(ctx, endpoint, nowMs);
    // After the last bill, so the renter reads what the whole rental cost.
    if (endpoint.endAlertDue !== null) await tellRentalEnded(ctx, endpoint, endpoint.endAlertDue, nowMs);
    return { billed, stopped, placed: 0, desired: 0, status: endpoint.status };
  }

  // 3. How many, and which to add or stop.
  const current = [...rows.values()];
  const view = await placementView(ctx, endpoint, await liveReplicasOf(ctx, endpointId), nowMs);
  // Scale-down hysteresis: replicas that traffic needs are neither counted down nor stopped (rollout.ts).
  const traffic = { points: view.points.map((p) => p.point), reach: view.reach, goodRttMs: ctx.config.ENDPOINT_GOOD_RTT_MS };
  const decision = desiredReplicas({
    minReplicas: endpoint.minReplicas,
    maxReplicas: endpoint.maxReplicas,
    targetInflight: endpoint.targetInflight,
    idleS: endpoint.idleS,
    lastActiveAt: endpoint.lastActiveAt,
    nowMs,
    current: current.filter((r) => r.generation === endpoint!.generation).length,
    inflight,
    poorlyServedTraffic: trafficIsPoorlyServed(view, ctx.config.ENDPOINT_GOOD_RTT_MS),
    keptForTraffic: keptForTraffic(endpoint.generation, current, traffic),
  });
  const plan = rolloutPlan(endpoint.generation, decision.desired, current, traffic);
  for (const id of plan.stop) {
    const r = rows.get(id);
    if (r) await stop(r, r.generation !== endpoint.generation ? 'rolled_out' : 'scaled_down');
  }

  // 4. The hold covers what will run: the replicas kept plus the new ones at the price cap.
  const kept = [...rows.values()];
  const perHour = burnPerHour(kept) + BigInt(plan.add) * BigInt(endpoint.maxPricePerGpuHour) * BigInt(endpoint.gpuCount);
  const hold =
    perHour > 0n ? await topUpHold(ctx, endpoint, perHour, nowMs) : { ...(await balances(ctx, endpoint)), target: 0n, added: 0n };
  const runway = hold.hold + hold.balance;
  if (perHour > 0n && hold.hold < costOfSeconds(perHour, ctx.config.ENDPOINT_STOP_MARGIN_S)) {
    // The hold cannot pay for the next minutes: stop everything now, so nothing runs unpaid.
    await alertRenter(ctx, endpoint, 'endpoint_balance_low', nowMs, {
      stopping: true,
      balance: String(hold.balance),
      hold: String(hold.hold),
    });
    const moved = await ctx.db.$client
      .prepare(
        "UPDATE endpoints SET status = 'stopped', status_reason = 'insufficient_funds', desired_replicas = 0, version = version + 1, updated_at = ?2 WHERE id = ?1 AND status = 'active'",
      )
      .bind(endpointId, nowMs)
      .run();
    for (const r of kept) await stop(r, 'insufficient_funds');
    await pushNodes(ctx, changedNodes);
    if (moved.meta.changes > 0) await alertRenter(ctx, endpoint, 'endpoint_stopped', nowMs, { reason: 'insufficient_funds' });
    return { billed, stopped, placed: 0, desired: 0, status: 'stopped' };
  }
  const low = perHour > 0n && runway < costOfSeconds(perHour, ctx.config.ENDPOINT_LOW_BALANCE_S);
  if (low && endpoint.lowBalanceAlertedAt === null) {
    const marked = await ctx.db.$client
      .prepare('UPDATE endpoints SET low_balance_alerted_at = ?2 WHERE id = ?1 AND low_balance_alerted_at IS NULL')
      .bind(endpointId, nowMs)
      .run();
    if (marked.meta.changes > 0)
      await alertRenter(ctx, endpoint, 'endpoint_balance_low', nowMs, {
        stopping: false,
        balance: String(hold.balance),
        hold: String(hold.hold),
        secondsLeft: Number((runway * 3600n) / perHour),
      });
  } else if (!low && endpoint.lowBalanceAlertedAt !== null) {
    await ctx.db.$client.prepare('UPDATE endpoints SET low_balance_alerted_at = NULL WHERE id = ?1').bind(endpointId).run();
  }

  // 5. Place, and push what changed.
  const placed = plan.add > 0 ? await placeReplicas(ctx, endpoint, plan.add, nowMs, view) : [];
  for (const p of placed) changedNodes.add(p.nodeId);
  if (decision.desired !== endpoint.desiredReplicas) {
    await ctx.db.$client.prepare('UPDATE endpoints SET desired_replicas = ?2 WHERE id = ?1').bind(endpointId, decision.desired).run();
  }
  await pushNodes(ctx, changedNodes);
  return { billed, stopped, placed: placed.length, desired: decision.desired, status: endpoint.status };
}

/** After a stop or DELETE, once no replica can bill any more, the rest of the hold goes back. */
async function maybeRelease(ctx: EndpointsContext, endpoint: EndpointRow, nowMs: number): Promise<void> {
  const pending = await ctx.db.$client
    .prepare(
      'SELECT count(*) AS n, max(stopped_at) AS last FROM endpoint_replicas WHERE endpoint_id = ?1 AND (stopped_at IS NULL OR billed_ms < min(ready_ms, receipt_ready_ms) OR stopped_at > ?2)',
    )
    .bind(endpoint.id, nowMs - RELEASE_GRACE_MS)
    .first<{ n: number }>();
  if ((pending?.n ?? 0) === 0) await releaseHold(ctx, endpoint, nowMs);
}

/** A stopped replica's last receipt may arrive this long after the stop; the hold waits for it. */
const RELEASE_GRACE_MS = 60_000;

/** Renter alerts (workers/alerts: renter kinds reach the chats linked to the account). */
async function alertRenter(
  ctx: EndpointsContext,
  endpoint: EndpointRow,
  kind: 'endpoint_balance_low' | 'endpoint_stopped',
  nowMs: number,
  data: Record<string, unknown>,
): Promise<void> {
  const eventId = `${kind}:${endpoint.id}:${kind === 'endpoint_stopped' ? endpoint.version : (endpoint.lowBalanceAlertedAt ?? nowMs)}`;
  // Renter kinds: every chat linked to the account hears it (workers/alerts). A queue failure is
  // logged, not thrown: the money change it reports is already committed.
  await emitAlert(ctx.env, {
    eventId,
    kind,
    accountId: endpoint.accountId,
    at: nowMs,
    data: { endpointId: endpoint.id, name: endpoint.name, ...data },
  }).catch((error) => console.error(`${kind} alert not emitted`, error));
}

/**
 * Pays the `rental_ended` alert the stop recorded as owed: queued, then the debt cleared. A crash
 * before the queue leaves the debt for the next tick (the cron tends an endpoint while it owes
 * one, endpoints.repo.ts `endpointsToTend`); a crash between the queue and the clear queues it
 * again next tick under the same event id (`rental_ended:<id>:<end>`), which the alert consumer
 * drops as a repeat. A queue failure is logged and the debt kept: the next tick tries again.
 */
async function tellRentalEnded(ctx: EndpointsContext, endpoint: EndpointRow, endedAt: number, nowMs: number): Promise<void> {
  const cost = String(await billedSoFar(ctx, endpoint.id));
  const event = {
    eventId: `rental_ended:${endpoint.id}:${endedAt}`,
    kind: 'rental_ended' as const,
    accountId: endpoint.accountId,
    at: nowMs,
    data: { endpointId: endpoint.id, name: endpoint.name, endedAt, cost },
  };
  try {
    await emitAlert(ctx.env, event);
  } catch (error) {
    console.error('rental_ended alert not emitted; the next tick retries', error);
    return;
  }
  await ctx.db.$client
    .prepare('UPDATE endpoints SET end_alert_due = NULL WHERE id = ?1 AND end_alert_due = ?2')
    .bind(endpoint.id, endedAt)
    .run();
}

/** What the endpoint's replicas have been billed in all (base units). */
async function billedSoFar(ctx: EndpointsContext, endpointId: string): Promise<number> {
  const row = await ctx.db.$client
    .prepare('SELECT coalesce(sum(billed_amount), 0) AS cost FROM endpoint_replicas WHERE endpoint_id = ?1')
    .bind(endpointId)
    .first<{ cost: number }>();
  return row?.cost ?? 0;
}
