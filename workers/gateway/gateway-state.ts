import type { Db } from '../app-env.ts';
import { routingEntry } from '../endpoints/routing-table.repo.ts';
import { probePointMap } from '../jobs/quote.repo.ts';
import { EndpointCache, type ProbePointsLoader } from './endpoint-cache.ts';
import { ReplicaObservations } from './replica-observations.ts';
import { TrafficCounters } from './traffic-stats.ts';

// What the gateway keeps in the isolate's memory, so a request reads no D1 (README.md in this
// folder): the endpoints' routing entries, what it observed of the replicas, the traffic counts
// waiting for their flush. One per D1 binding, as the entries come from it (a test harness may
// hand each file its own).

export interface Gateway {
  cache: EndpointCache;
  seen: ReplicaObservations;
  traffic: TrafficCounters;
  /** The probe points, kept per isolate by quote.repo.ts (one read per 10 s at most). */
  probePoints: ProbePointsLoader;
}

const gateways = new WeakMap<Db, Gateway>();

export function gatewayFor(db: Db): Gateway {
  let g = gateways.get(db);
  if (!g) {
    const seen = new ReplicaObservations();
    const probePoints: ProbePointsLoader = async (nowMs) => (await probePointMap(db, nowMs)).points;
    const cache = new EndpointCache((id) => routingEntry(db, id), probePoints);
    cache.onLoaded = (_entry, states) => {
      for (const s of states) seen.tableSays(s.replicaId, s.ready);
    };
    g = { cache, seen, traffic: new TrafficCounters(), probePoints };
    gateways.set(db, g);
  }
  return g;
}
