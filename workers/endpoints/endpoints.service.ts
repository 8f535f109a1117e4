import { and, eq } from 'drizzle-orm';
import { endpoints } from '../../db/schema.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { AppError } from '../errors.ts';
import { randomId } from '../lib/ids.ts';
import { modelsFor } from '../jobs/jobs.service.ts';
import type { EndpointsContext } from './endpoints-context.ts';
import {
  getEndpoint,
  getEndpointByIdempotencyKey,
  liveEndpointCount,
  replicaSetOf,
  trafficSince,
  type EndpointRow,
  type NewEndpoint,
  type ReplicaWithNode,
  type TrafficSums,
} from './endpoints.repo.ts';
import { balances } from './endpoint-hold.ts';
import { balanceOf } from '../ledger/ledger.service.ts';
import { formatAmount } from '../lib/amounts.ts';
import { costOfSeconds } from './replica-billing.ts';
import { desiredReplicas } from './scaling.ts';
import type { EndpointCreate, EndpointPatch } from './endpoint-input.schema.ts';

// Creating, changing and deleting endpoints. Placement, billing and replicas are the cron's and
// the gateway's (tend.ts, wake.ts): a create or PATCH only records what the renter wants, in one
// statement, and the next tick (or the first request) acts on it.

/**
 * Endpoints an account may have (not deleted). The cron tends every active endpoint each minute;
 * the cap keeps one account from making that work unbounded. Checked before the insert, so racing
 * creates may pass it by a few: it bounds the work, it is not a price.
 */
export const MAX_ENDPOINTS_PER_ACCOUNT = 20;
/** GET /v1/endpoints/{id} reports the traffic of this many minutes up to now. */
export const TRAFFIC_VIEW_MINUTES = 5;

export interface CreateInput {
  accountId: string;
  request: EndpointCreate;
  /** Where to place first: the request's regions, else the caller's edge location. */
  regions: { lat: number; lon: number }[];
  maxPrice: bigint;
  /** `<account>:<Idempotency-Key>`, or null. */
  idempotencyKey: string | null;
  /** A template rental's end (Unix ms): the cron stops the endpoint then (tend.ts). Absent: runs until stopped. */
  stopAt?: number | null;
  /**
   * POST /v1/endpoints: refuse (402) when the balance cannot fund the first tick's hold
   * (firstHoldOf). Template rentals check their whole cost instead (template-rental.ts).
   */
  requireFirstHold?: boolean;
}

export async function createEndpoint(
  ctx: EndpointsContext,
  input: CreateInput,
  nowMs: number,
): Promise<{ endpoint: EndpointRow; replayed: boolean }> {
  // The request alone: the edge location filled in for missing regions may differ on a retry
  // that comes in through another data centre, and is still the same request.
  const requestHash = await sha256Hex(new TextEncoder().encode(JSON.stringify(input.request)));
  if (input.idempotencyKey) {
    const existing = await getEndpointByIdempotencyKey(ctx.db, input.idempotencyKey);
    if (existing) return sameRequest(existing, requestHash);
  }
  if ((await liveEndpointCount(ctx.db, input.accountId)) >= MAX_ENDPOINTS_PER_ACCOUNT) {
    throw new AppError(
      409,
      'too_many_endpoints',
      `This account has ${MAX_ENDPOINTS_PER_ACCOUNT} endpoints, the most it may have; delete one first.`,
    );
  }
  const r = input.request;
  if (input.requireFirstHold) await assertFirstHoldFunded(ctx, input, nowMs);
  const row: NewEndpoint = {
    id: randomId('ep'),
    accountId: input.accountId,
    idempotencyKey: input.idempotencyKey,
    requestHash,
    name: r.name,
    image: r.image,
    command: JSON.stringify(r.command),
    env: JSON.stringify(r.env),
    port: r.port,
    healthPath: r.healthPath,
    gpuModels: r.gpu.model === undefined ? null : JSON.stringify(modelsFor(r.gpu.model)),
    gpuCount: r.gpu.count,
    minVramMb: r.gpu.minVramMb ?? 0,
    minReplicas: r.replicas.min,
    maxReplicas: r.replicas.max,
    regions: JSON.stringify(input.regions),
    maxPricePerGpuHour: Number(input.maxPrice),
    targetInflight: r.scaling.targetInflight,
    idleS: r.scaling.idleS,
    public: r.public,
    pathPrefix: r.pathPrefix,
    status: 'active',
    generation: 1,
    desiredReplicas: r.replicas.min,
    lastActiveAt: nowMs,
    stopAt: input.stopAt ?? null,
    createdAt: nowMs,
    updatedAt: nowMs,
  };
  try {
    await ctx.db.insert(endpoints).values(row).run();
  } catch (error) {
    // Two creates racing on one Idempotency-Key: the loser answers with the winner's endpoint.
    if (
      input.idempotencyKey &&
      /UNIQUE constraint failed: endpoints\.idempotency_key/.test(
        String(error instanceof Error ? `${error.message} ${String(error.cause)}` : error),
      )
    ) {
      const existing = await getEndpointByIdempotencyKey(ctx.db, input.idempotencyKey);
      if (existing) return sameRequest(existing, requestHash);
    }
    throw error;
  }
  return { endpoint: (await getEndpoint(ctx.db, row.id))!, replayed: false };
}

/**
 * What the first cron tick will move into the hold: it places the replicas scaling.ts wants of a
 * fresh endpoint (max(min, 1): it was just used) and holds ENDPOINT_HOLD_AHEAD_S of their price
 * cap × GPUs (tend.ts, endpoint-hold.ts), rounded up to the base unit as there.
 */
export function firstHoldOf(
  ctx: EndpointsContext,
  request: EndpointCreate,
  maxPrice: bigint,
  nowMs: number,
): { replicas: number; amount: bigint } {
  const { desired } = desiredReplicas({
    minReplicas: request.replicas.min,
    maxReplicas: request.replicas.max,
    targetInflight: request.scaling.targetInflight,
    idleS: request.scaling.idleS,
    lastActiveAt: nowMs,
    nowMs,
    current: 0,
    inflight: 0,
    poorlyServedTraffic: false,
  });
  return {
    replicas: desired,
    amount: costOfSeconds(BigInt(desired) * maxPrice * BigInt(request.gpu.count), ctx.config.ENDPOINT_HOLD_AHEAD_S),
  };
}

/**
 * Without this the renter learns a minute later that the endpoint was stopped for lack of funds
 * (the first tick cannot hold its price). A check, not a reservation: two creates racing may
 * both pass it; the tick's hold is what keeps anything from running unpaid.
 */
async function assertFirstHoldFunded(ctx: EndpointsContext, input: CreateInput, nowMs: number): Promise<void> {
  const hold = firstHoldOf(ctx, input.request, input.maxPrice, nowMs);
  if (hold.amount <= 0n) return;
  const balance = BigInt(await balanceOf(ctx.db, input.accountId));
  if (balance >= hold.amount) return;
  const d = ctx.config.TOKEN_DECIMALS;
  throw new AppError(
    402,
    'insufficient_funds',
    `The endpoint's first hold is ${formatAmount(hold.amount, d)} tokens (${hold.replicas} replica(s) × ${input.request.gpu.count} GPU(s) at up to ${formatAmount(input.maxPrice, d)} per GPU-hour, ${ctx.config.ENDPOINT_HOLD_AHEAD_S} s ahead); the balance is ${formatAmount(balance, d)}. Deposit, or ask for fewer replicas or a lower price cap; nothing was created.`,
  );
}

function sameRequest(existing: EndpointRow, requestHash: string): { endpoint: EndpointRow; replayed: boolean } {
  if (existing.requestHash === requestHash) return { endpoint: existing, replayed: true };
  throw new AppError(
    409,
    'idempotency_conflict',
    'This Idempotency-Key was already used for a different endpoint request; use a new key for a new request.',
  );
}

/**
 * A renter's change, applied only to the row it was computed from (version CAS). A new image,
 * command or env bumps the generation: the cron rolls replicas over one by one (rollout.ts).
 */
export async function patchEndpoint(
  ctx: EndpointsContext,
  endpoint: EndpointRow,
  patch: EndpointPatch,
  maxPrice: bigint | null,
  nowMs: number,
): Promise<EndpointRow> {
  if (endpoint.status === 'deleted') throw new AppError(404, 'endpoint_not_found', 'No such endpoint.');
  const min = patch.replicas?.min ?? endpoint.minReplicas;
  const max = patch.replicas?.max ?? endpoint.maxReplicas;
  if (min > max) throw new AppError(400, 'invalid_request', 'replicas: min must be at most max.');
  // A new path prefix changes what the replica serves under (its health path, GRIDPLANE_BASE_PATH's use): a roll-out too.
  const rollout =
    patch.image !== undefined ||
    patch.command !== undefined ||
    patch.env !== undefined ||
    (patch.pathPrefix !== undefined && patch.pathPrefix !== endpoint.pathPrefix);
  const set: Partial<NewEndpoint> = {
    minReplicas: min,
    maxReplicas: max,
    image: patch.image ?? endpoint.image,
    command: patch.command ? JSON.stringify(patch.command) : endpoint.command,
    env: patch.env ? JSON.stringify(patch.env) : endpoint.env,
    targetInflight: patch.scaling?.targetInflight ?? endpoint.targetInflight,
    idleS: patch.scaling && patch.scaling.idleS !== undefined ? patch.scaling.idleS : endpoint.idleS,
    maxPricePerGpuHour: maxPrice === null ? endpoint.maxPricePerGpuHour : Number(maxPrice),
    public: patch.public ?? endpoint.public,
    pathPrefix: patch.pathPrefix ?? endpoint.pathPrefix,
    generation: endpoint.generation + (rollout ? 1 : 0),
    version: endpoint.version + 1,
    updatedAt: nowMs,
    // A scale change counts as activity: the scaler keeps what was just asked for.
    lastActiveAt: nowMs,
  };
  if (patch.status === 'active' && endpoint.status === 'stopped') {
    // A rental whose time ran out stays ended: restarted, the next tend would stop it at once (the
    // end is past), after its replicas were asked for. Rent again instead.
    if (endpoint.stopAt !== null && endpoint.stopAt <= nowMs)
      throw new AppError(409, 'rental_ended', 'This rental has ended (its time ran out); rent the template again to start a new one.');
    set.status = 'active';
    set.statusReason = null;
    set.lowBalanceAlertedAt = null;
  }
  const moved = await ctx.db.update(endpoints).set(set).where(eqVersion(endpoint)).returning().all();
  if (moved.length === 0)
    throw new AppError(409, 'endpoint_changed', 'The endpoint changed while this request was applied; read it again and retry.');
  return moved[0]!;
}

function eqVersion(endpoint: EndpointRow) {
  return and(eq(endpoints.id, endpoint.id), eq(endpoints.version, endpoint.version));
}

/** DELETE: the cron stops its replicas, bills them to the end, and releases the hold. */
export async function deleteEndpoint(ctx: EndpointsContext, endpoint: EndpointRow, nowMs: number): Promise<EndpointRow> {
  if (endpoint.status === 'deleted') return endpoint;
  const rows = await ctx.db
    .update(endpoints)
    .set({
      status: 'deleted',
      statusReason: 'deleted by the renter',
      desiredReplicas: 0,
      deletedAt: nowMs,
      version: endpoint.version + 1,
      updatedAt: nowMs,
    })
    .where(eqVersion(endpoint))
    .returning()
    .all();
  if (rows.length === 0)
    throw new AppError(409, 'endpoint_changed', 'The endpoint changed while this request was applied; read it again and retry.');
  return rows[0]!;
}

/** The account's endpoint; another account's, or none, is the same 404 (ids are not confirmed to strangers). */
export async function endpointOfAccount(ctx: Pick<EndpointsContext, 'db'>, accountId: string, endpointId: string): Promise<EndpointRow> {
  const endpoint = await getEndpoint(ctx.db, endpointId);
  if (!endpoint || endpoint.accountId !== accountId)
    throw new AppError(404, 'endpoint_not_found', 'There is no such endpoint for this account.');
  return endpoint;
}

/** What GET /v1/endpoints/{id} adds to the endpoint: its live replicas, recent traffic and hold. */
export async function endpointDetails(
  ctx: EndpointsContext,
  endpoint: EndpointRow,
  nowMs: number,
): Promise<{ replicas: ReplicaWithNode[]; traffic: TrafficSums; hold: bigint }> {
  // Whole minutes: the current one (still filling) and the TRAFFIC_VIEW_MINUTES - 1 before it.
  const since = nowMs - (nowMs % 60_000) - (TRAFFIC_VIEW_MINUTES - 1) * 60_000;
  const [replicas, traffic, money] = await Promise.all([
    replicaSetOf(ctx.db, endpoint.id),
    trafficSince(ctx.db, endpoint.id, since),
    balances(ctx, endpoint),
  ]);
  return { replicas, traffic, hold: money.hold };
}
