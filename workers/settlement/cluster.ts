import type { SolanaRpc } from './rpc-client.ts';
import { WrongClusterError } from './rpc-error.ts';

/**
 * Throws WrongClusterError unless the RPC node serves the configured cluster. `expected` null
 * means "not pinned" (development against a local validator); see config.ts for the defaults.
 * Call it before crediting deposits and before signing payouts.
 */
export async function assertCluster(rpc: SolanaRpc, expected: string | null): Promise<void> {
  if (expected === null) return;
  const actual = await rpc.getGenesisHash();
  if (actual !== expected) throw new WrongClusterError(expected, actual);
}
