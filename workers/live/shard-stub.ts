import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import type { AdmitVerdict, NodeShard } from './node-shard.do.ts';
import { shardIndex, shardName } from './shard.ts';

export function shardFor(env: Env, nodeId: string): DurableObjectStub<NodeShard> {
  const index = shardIndex(nodeId, getConfig(env).HEARTBEAT_SHARDS);
  return shardByIndex(env, index);
}

/**
 * Where a node's seen nonces live: a fixed partition that HEARTBEAT_SHARDS does not move. If the
 * nonces followed the live state, a change of the shard count would hand a node to a shard that
 * never saw its recent requests, and a captured request, still inside its timestamp window, could
 * be replayed there. NEVER change this number: doing so reopens that window once.
 */
export const NONCE_SHARDS = 32;

export function nonceHomeIndex(nodeId: string): number {
  return shardIndex(nodeId, NONCE_SHARDS);
}

/**
 * The live shard's index and whether it also holds the node's nonces (both are NodeShard objects
 * named `node-shard-<i>`, so with the default 32 shards they coincide and a heartbeat costs one
 * call); when not, the caller consumes the nonce at `nonceHomeIndex` first.
 */
export function shardPlan(
  env: Env,
  nodeId: string,
): { live: DurableObjectStub<NodeShard>; nonceHome: DurableObjectStub<NodeShard> | null } {
  const liveIndex = shardIndex(nodeId, getConfig(env).HEARTBEAT_SHARDS);
  const home = nonceHomeIndex(nodeId);
  return { live: shardByIndex(env, liveIndex), nonceHome: home === liveIndex ? null : shardByIndex(env, home) };
}

/**
 * Records the nonce where the shard count cannot move it, unless the node is suspended (the
 * suspension is kept at the same home): 'replayed_request' when the nonce was seen.
 */
export async function consumeAgentNonce(env: Env, nodeId: string, nonce: string, nowMs: number): Promise<AdmitVerdict> {
  return shardByIndex(env, nonceHomeIndex(nodeId)).admit(nodeId, nonce, nowMs);
}

/** The node's nonce home, where its suspension is kept (see NodeShard.setSuspended). */
export function nonceHomeOf(env: Env, nodeId: string): DurableObjectStub<NodeShard> {
  return shardByIndex(env, nonceHomeIndex(nodeId));
}

export function shardByIndex(env: Env, index: number): DurableObjectStub<NodeShard> {
  const ns = env.NODE_SHARD as DurableObjectNamespace<NodeShard>;
  return ns.get(ns.idFromName(shardName(index)));
}
