import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { tunnelFor } from '../../workers/tunnel/tunnel-stub.ts';
import { bytesToBase64 } from '../../protocol/signed-request.ts';
import { replicaReceiptMessage } from '../../protocol/tunnel.ts';
import { connectTunnel, placeReplica } from './helpers/tunnel.ts';

// The agent's replica reports travel over the tunnel to the control plane's record
// (workers/endpoints/replica-reports.ts), against real D1: a placed replica's node hears its
// desired set when it connects, its state reports change the replica's row, a report for a
// replica the node does not run changes nothing, and a closed tunnel makes its replicas unreachable.

async function replicaState(id: string): Promise<string> {
  return (await env.DB.prepare('SELECT state FROM endpoint_replicas WHERE id = ?1').bind(id).first<{ state: string }>())!.state;
}

describe('replica reports over the tunnel', () => {
  it('records state reports for the node’s replicas, ignores others, and marks them unreachable when the tunnel closes', async () => {
    const { node, replicaId } = await placeReplica(-33.87, 151.21, 'AU');
    const other = await placeReplica(-37.81, 144.96, 'AU');
    expect(other.node.nodeId).not.toBe(node.nodeId);
    const peer = await connectTunnel(node);
    const desired = JSON.parse(await peer.until(() => peer.texts.find((t) => t.includes(replicaId)), 'the desired set'));
    expect(desired.replicas.map((r: { replicaId: string }) => r.replicaId)).toEqual([replicaId]);

    // A report for another node's replica first: it must change nothing, while ours goes through.
    peer.ws.send(JSON.stringify({ type: 'replica_state', replicaId: other.replicaId, state: 'ready', at: 1 }));
    peer.ws.send(JSON.stringify({ type: 'replica_state', replicaId, state: 'ready', at: 2 }));
    await expect.poll(() => replicaState(replicaId)).toBe('ready');
    expect(await replicaState(other.replicaId)).toBe('placed');

    peer.ws.close(1001, 'agent stopping');
    await expect.poll(() => replicaState(replicaId)).toBe('unreachable');
    expect((await tunnelFor(env, node.nodeId).load()).connected).toBe(false);
  });

  it('records the last receipt a node signs after its replica left the desired set (the stopped replica’s final ready time)', async () => {
    const { node, replicaId } = await placeReplica(1.35, 103.82, 'SG');
    const peer = await connectTunnel(node);
    await peer.until(() => peer.texts.find((t) => t.includes(replicaId)), 'the desired set');
    peer.ws.send(JSON.stringify({ type: 'replica_state', replicaId, state: 'ready', at: 1 }));
    await expect.poll(() => replicaState(replicaId)).toBe('ready');
    // The control plane stops it (the cron's scale-down pushes the set without it); the agent
    // stops the server and then signs the replica's final cumulative ready time, as it does.
    expect(await tunnelFor(env, node.nodeId).setReplicas([])).toMatchObject({ ok: true });
    const readyMs = 4_321;
    const sig = await crypto.subtle.sign(
      'Ed25519',
      node.keyPair.privateKey,
      new TextEncoder().encode(replicaReceiptMessage(node.nodeId, replicaId, readyMs, 2)),
    );
    peer.ws.send(JSON.stringify({ type: 'replica_receipt', replicaId, readyMs, at: 2, signature: bytesToBase64(new Uint8Array(sig)) }));
    await expect
      .poll(
        async () =>
          (await env.DB.prepare('SELECT receipt_ready_ms AS ms FROM endpoint_replicas WHERE id = ?1')
            .bind(replicaId)
            .first<{ ms: number }>())!.ms,
      )
      .toBe(readyMs);
    peer.ws.close(1001, 'agent stopping');
  });
});
