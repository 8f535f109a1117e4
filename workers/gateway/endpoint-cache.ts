import type { LatLon } from '../routing/geo.ts';
import { probeIndexFor } from '../routing/rank.ts';
import { DEFAULT_RTT_PARAMS, profileNode, type NodeRttProfile, type ProbeIndex, type ProbeSample } from '../routing/rtt-model.ts';
import type { RouteReplica } from '../endpoints/route-request.ts';

// The gateway's copy of each endpoint's routing entry, per isolate: who may call it (key hashes,
// public flag), its status, and its replicas with their nodes' RTT profiles. A request reads it
// from memory; an entry older than ENTRY_TTL_MS is read again from D1 before it is used (one
// read shared by every request waiting on it), and one older than REFRESH_AHEAD_MS is read again
// in the background while the current copy serves. So D1 sees at most one read per endpoint per
// isolate every ~2 s, whatever the request rate, and a revoked key or a replica gone not ready
// stops being used within ENTRY_TTL_MS (plus the read itself) of the change in D1.

export const ENTRY_TTL_MS = 2_000;
export const REFRESH_AHEAD_MS = 1_500;
/** Cold path only: how often a request waiting for a replica to start reads the entry again. */
export const COLD_POLL_MS = 500;
/** When D1 cannot be read, a copy this old still serves (availability over freshness; logged). */
export const STALE_MAX_MS = 30_000;
/** Endpoints kept per isolate; the least recently loaded goes first when full. */
const MAX_ENTRIES = 10_000;

export type EndpointStatus = 'active' | 'stopped' | 'deleted';

/** What the loader (E's routing-table repo) gives for one endpoint; null: no such endpoint. */
export interface RoutingSource {
  endpointId: string;
  accountId: string;
  public: boolean;
  /** `keep`: the replica gets the full `/e/{id}/…` path; anything else (absent, `strip`): the path after it. */
  pathPrefix?: string;
  status: EndpointStatus | string;
  /** SHA-256 (hex) of every key not revoked. */
  keyHashes: readonly string[];
  replicas: readonly {
    replicaId: string;
    nodeId: string;
    state: string;
    /** The node's registry status is online; a replica on an offline node is not routed to, whatever it said. */
    nodeOnline?: boolean;
    lat: number;
    lon: number;
    probes: readonly ProbeSample[];
  }[];
}

export interface GatewayEntry {
  endpointId: string;
  public: boolean;
  /** Forward the full `/e/{id}/…` path (the endpoint's `pathPrefix` is `keep`). */
  keepPrefix: boolean;
  status: string;
  keyHashes: ReadonlySet<string>;
  /** Replicas the table says are ready, with their nodes' RTT profiles. */
  ready: readonly RouteReplica[];
  /** Replicas in any live state other than ready (starting, placed…): a cold start is under way. */
  starting: number;
  loadedAt: number;
}

export type RoutingLoader = (endpointId: string) => Promise<RoutingSource | null>;
export type ProbePointsLoader = (nowMs: number) => Promise<ReadonlyMap<string, LatLon>>;

interface Slot {
  entry: GatewayEntry | null;
  loadedAt: number;
  loading: Promise<GatewayEntry | null> | null;
}

/** Node profiles by node, kept while the node's probes and the probe points stay the same. */
const profiles = new Map<
  string,
  { probes: readonly ProbeSample[]; lat: number; lon: number; index: ProbeIndex; profile: NodeRttProfile }
>();

function profileOf(nodeId: string, lat: number, lon: number, probes: readonly ProbeSample[], index: ProbeIndex): NodeRttProfile {
  const hit = profiles.get(nodeId);
  if (hit && hit.index === index && hit.lat === lat && hit.lon === lon && sameProbes(hit.probes, probes)) return hit.profile;
  const profile = profileNode({ lat, lon, probes }, index, DEFAULT_RTT_PARAMS);
  if (profiles.size >= MAX_ENTRIES * 4) profiles.clear();
  profiles.set(nodeId, { probes, lat, lon, index, profile });
  return profile;
}

function sameProbes(a: readonly ProbeSample[], b: readonly ProbeSample[]): boolean {
  return a.length === b.length && a.every((p, i) => p.target === b[i]!.target && p.rttMs === b[i]!.rttMs);
}

const LIVE_NOT_READY = new Set(['placed', 'starting']);

export function toEntry(source: RoutingSource, index: ProbeIndex, nowMs: number): GatewayEntry {
  const ready: RouteReplica[] = [];
  let starting = 0;
  for (const r of source.replicas) {
    if (r.state === 'ready' && r.nodeOnline !== false)
      ready.push({ replicaId: r.replicaId, nodeId: r.nodeId, profile: profileOf(r.nodeId, r.lat, r.lon, r.probes, index) });
    else if (LIVE_NOT_READY.has(r.state)) starting++;
  }
  return {
    endpointId: source.endpointId,
    public: source.public,
    keepPrefix: source.pathPrefix === 'keep',
    status: source.status,
    keyHashes: new Set(source.keyHashes),
    ready,
    starting,
    loadedAt: nowMs,
  };
}

export class EndpointCache {
  private readonly slots = new Map<string, Slot>();
  /** Replica ids and whether each was ready, in every entry loaded: the rotation hears about them (ReplicaObservations.tableSays). */
  onLoaded: ((entry: GatewayEntry, states: readonly { replicaId: string; ready: boolean }[]) => void) | null = null;

  constructor(
    private readonly loadRouting: RoutingLoader,
    private readonly loadProbePoints: ProbePointsLoader,
  ) {}

  /**
   * The entry as of at most ENTRY_TTL_MS ago (`maxAgeMs` lower in the cold path). Starts a
   * background read when it is older than REFRESH_AHEAD_MS; `background` receives that promise
   * (waitUntil). Null: no such endpoint (cached as well, so unknown ids do not each cost a read).
   */
  async get(
    endpointId: string,
    nowMs: number,
    background: (p: Promise<unknown>) => void,
    maxAgeMs = ENTRY_TTL_MS,
  ): Promise<GatewayEntry | null> {
    const slot = this.slots.get(endpointId);
    const age = slot ? nowMs - slot.loadedAt : Number.POSITIVE_INFINITY;
    if (slot && age >= 0 && age < maxAgeMs) {
      if (age >= REFRESH_AHEAD_MS && maxAgeMs === ENTRY_TTL_MS && !slot.loading)
        background(this.load(endpointId, slot).catch(() => undefined));
      return slot.entry;
    }
    const current = slot ?? { entry: null, loadedAt: Number.NEGATIVE_INFINITY, loading: null };
    if (!slot) this.remember(endpointId, current);
    try {
      return await (current.loading ?? this.load(endpointId, current));
    } catch (error) {
      if (slot && age >= 0 && age < STALE_MAX_MS) {
        console.error('endpoint routing read failed; serving the copy from', age, 'ms ago', error);
        return slot.entry;
      }
      throw error;
    }
  }

  private load(endpointId: string, slot: Slot): Promise<GatewayEntry | null> {
    const startedAt = Date.now();
    const loading = (async () => {
      const [source, points] = await Promise.all([this.loadRouting(endpointId), this.loadProbePoints(startedAt)]);
      const entry = source === null ? null : toEntry(source, probeIndexFor(points), startedAt);
      slot.entry = entry;
      slot.loadedAt = startedAt;
      if (entry && source && this.onLoaded)
        this.onLoaded(
          entry,
          source.replicas.map((r) => ({ replicaId: r.replicaId, ready: r.state === 'ready' && r.nodeOnline !== false })),
        );
      return entry;
    })();
    slot.loading = loading;
    loading.then(
      () => (slot.loading = slot.loading === loading ? null : slot.loading),
      () => (slot.loading = slot.loading === loading ? null : slot.loading),
    );
    return loading;
  }

  private remember(endpointId: string, slot: Slot): void {
    if (this.slots.size >= MAX_ENTRIES) {
      const oldest = this.slots.keys().next().value;
      if (oldest !== undefined) this.slots.delete(oldest);
    }
    this.slots.set(endpointId, slot);
  }
}
