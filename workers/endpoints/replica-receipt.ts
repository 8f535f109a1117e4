import { decodePublicKey } from '../../protocol/base58.ts';
import { base64ToBytes } from '../../protocol/signed-request.ts';
import { replicaReceiptMessage, type TunnelControlToWorker } from '../../protocol/tunnel.ts';

// The replica receipt check on its own, without D1 or the Worker's bindings, so the agent's
// tests (Node) verify what the agent signs with the very function the Worker bills by.

export type ReplicaReceiptMessage = Extract<TunnelControlToWorker, { type: 'replica_receipt' }>;

/** Checks a receipt's ed25519 signature by the node's key (the node id is its base58 public key). */
export async function verifyReplicaReceipt(nodeId: string, msg: ReplicaReceiptMessage): Promise<boolean> {
  const publicKey = decodePublicKey(nodeId);
  const signature = base64ToBytes(msg.signature);
  if (!publicKey || !signature || signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    const message = new TextEncoder().encode(replicaReceiptMessage(nodeId, msg.replicaId, msg.readyMs, msg.at));
    return await crypto.subtle.verify('Ed25519', key, signature, message);
  } catch {
    return false;
  }
}
