import type { Env } from '../env.ts';
import type { NodeTunnel } from './node-tunnel.do.ts';
import { locationHintNear, type LatLon } from './location-hint.ts';

/**
 * The node's tunnel object: one per node, named by its id. It is created where its first call
 * comes from: the agent's upgrade arrives at the edge nearest the node, which is what we want. A
 * first call from elsewhere (the cron pushing a desired set before the node ever connected)
 * passes the node's registered location, so the object is not created next to the cron instead.
 */
export function tunnelFor(env: Env, nodeId: string, near?: LatLon): DurableObjectStub<NodeTunnel> {
  const ns = env.NODE_TUNNEL as DurableObjectNamespace<NodeTunnel>;
  const id = ns.idFromName(nodeId);
  return near ? ns.get(id, { locationHint: locationHintNear(near) }) : ns.get(id);
}
