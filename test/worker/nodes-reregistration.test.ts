import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registration } from './helpers/agent.ts';
import { readyNode, type ReadyNode } from './helpers/jobs.ts';
import { sql } from './helpers/staking.ts';

// A re-registration that changes a node's GPU inventory also takes its verification away (the
// hardware that passed is not the hardware claimed now). Both land in one D1 batch: a crash
// between them must not leave a node with new GPUs that still counts as verified.

const state = async (nodeId: string) =>
  (
    await sql<{ verified: number; eligible: number; gpus: string }>(
      `SELECT verified_at IS NOT NULL AS verified, eligible,
            (SELECT group_concat(model || ' x' || count, ', ') FROM node_gpus WHERE node_id = nodes.id) AS gpus
     FROM nodes WHERE id = ?`,
      nodeId,
    )
  )[0]!;

const reRegister = (node: ReadyNode, gpus: unknown[]) =>
  node.send('POST', '/v1/nodes', registration({ owner: node.operator.wallet, gpus }));

const FOUR_4090 = [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 4, simulated: true }];
const TWO_4090 = [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2, simulated: true }];

describe('re-registration', () => {
  it('keeps the verification when the inventory is the same, and drops it with the new inventory when not', async () => {
    const node = await readyNode();
    expect(await state(node.nodeId)).toEqual({ verified: 1, eligible: 1, gpus: 'NVIDIA GeForce RTX 4090 x2' });
    expect((await reRegister(node, TWO_4090)).status).toBe(200);
    expect(await state(node.nodeId)).toEqual({ verified: 1, eligible: 1, gpus: 'NVIDIA GeForce RTX 4090 x2' });
    expect((await reRegister(node, FOUR_4090)).status).toBe(200);
    expect(await state(node.nodeId)).toEqual({ verified: 0, eligible: 0, gpus: 'NVIDIA GeForce RTX 4090 x4' });
    // …and the node is asked to prove the new inventory.
    expect(
      await sql("SELECT reason FROM challenges WHERE node_id = ? AND reason = 'registration' AND status = 'issued'", node.nodeId),
    ).toHaveLength(1);
  });

  it('lands the inventory change and the reset together or not at all', async () => {
    const node = await readyNode();
    // A failure injected into the reset: the statement that clears verified_at aborts.
    await env.DB.prepare(
      `CREATE TRIGGER test_fail_reset BEFORE UPDATE OF verified_at ON nodes
       WHEN NEW.id = '${node.nodeId}' AND NEW.verified_at IS NULL AND OLD.verified_at IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    ).run();
    try {
      expect((await reRegister(node, FOUR_4090)).status).toBe(500);
      // Neither half landed: the old inventory, still verified and eligible.
      expect(await state(node.nodeId)).toEqual({ verified: 1, eligible: 1, gpus: 'NVIDIA GeForce RTX 4090 x2' });
    } finally {
      await env.DB.prepare('DROP TRIGGER test_fail_reset').run();
    }
    // The agent's retry goes through whole.
    expect((await reRegister(node, FOUR_4090)).status).toBe(200);
    expect(await state(node.nodeId)).toEqual({ verified: 0, eligible: 0, gpus: 'NVIDIA GeForce RTX 4090 x4' });
  });
});
