import type { Env } from '../env.ts';
import type { NodeTunnel } from './node-tunnel.do.ts';

/** The node's tunnel object: one per node, named by its id, so it lives near the node that first opened it. */
export function tunnelFor(env: Env, nodeId: string): DurableObjectStub<NodeTunnel> {
  const ns = env.NODE_TUNNEL as DurableObjectNamespace<NodeTunnel>;
  return ns.get(ns.idFromName(nodeId));
}
