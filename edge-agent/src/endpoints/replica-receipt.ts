// A replica receipt: the node's signed count of the milliseconds a replica has been ready. The
// Worker never bills a replica for more than its node signed (as a job's bill never exceeds the
// agent's receipt). The bytes signed come from protocol/tunnel.ts, so both sides build them alike.
import { bytesToBase64 } from '../../../protocol/signed-request.ts';
import { replicaReceiptMessage, type TunnelControlToWorker } from '../../../protocol/tunnel.ts';
import type { Identity } from '../identity.ts';

export type ReplicaReceipt = Extract<TunnelControlToWorker, { type: 'replica_receipt' }>;

export async function signReplicaReceipt(identity: Identity, replicaId: string, readyMs: number, at: number): Promise<ReplicaReceipt> {
  const signature = await identity.sign(new TextEncoder().encode(replicaReceiptMessage(identity.nodeId, replicaId, readyMs, at)));
  return { type: 'replica_receipt', replicaId, readyMs, at, signature: bytesToBase64(signature) };
}
