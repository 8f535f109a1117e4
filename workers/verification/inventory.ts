import { sha256Hex } from '../../protocol/signed-request.ts';

// A node's GPU inventory as one hash: verification holds for exactly the inventory that passed.
export async function inventoryHash(gpus: readonly { model: string; count: number; simulated: boolean }[]): Promise<string> {
  const canonical = JSON.stringify(gpus.map((g) => [g.model, g.count, g.simulated]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)));
  return sha256Hex(new TextEncoder().encode(canonical));
}
