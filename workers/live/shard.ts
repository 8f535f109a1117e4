// Which NodeShard Durable Object owns a node. FNV-1a over the node id spreads base58 ids evenly;
// the same id always lands on the same shard while HEARTBEAT_SHARDS is unchanged.

export function shardIndex(nodeId: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) {
    hash ^= nodeId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shardCount;
}

export const shardName = (index: number) => `node-shard-${index}`;
