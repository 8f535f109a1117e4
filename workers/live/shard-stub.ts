import { getConfig } from '../config.ts';
import type { Env } from '../env.ts';
import type { NodeShard } from './node-shard.do.ts';
import { shardIndex, shardName } from './shard.ts';

export function shardFor(env: Env, nodeId: string): DurableObjectStub<NodeShard> {
  const index = shardIndex(nodeId, getConfig(env).HEARTBEAT_SHARDS);
  return shardByIndex(env, index);
}

export function shardByIndex(env: Env, index: number): DurableObjectStub<NodeShard> {
  const ns = env.NODE_SHARD as DurableObjectNamespace<NodeShard>;
  return ns.get(ns.idFromName(shardName(index)));
}
