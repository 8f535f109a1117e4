import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { routeRank } from '../../workers/routing/route-rank.ts';
import { json, jobBody, newRenter, readyNode } from './helpers/jobs.ts';
import { authed, sql } from './helpers/staking.ts';

// The quote pre-filter's columns on node_gpus (free GPUs, price, route rank) are kept by the
// triggers of migration 0013. These tests change what the rank reads through the real routes
// and through plain SQL writes, and compare the stored rank with routeRank() in TypeScript.

interface Row {
  status: string;
  eligible: number;
  suspended: number;
  free: number;
  rtt_excess_ms: number | null;
  price_per_gpu_hour: number;
  reputation: number;
  online_ms: number;
  last_seen_at: number;
  registered_at: number;
  stake_total: number;
  price: number;
  route_rank: number;
  count: number;
}

async function rowOf(nodeId: string): Promise<Row> {
  const [row] = await sql<Row>(
    `SELECT n.status, n.eligible, n.suspended, g.free, n.rtt_excess_ms, n.price_per_gpu_hour, n.reputation, n.online_ms,
            n.last_seen_at, n.registered_at, n.stake_total, g.price, g.route_rank, g.count
     FROM node_gpus g JOIN nodes n ON n.id = g.node_id WHERE g.node_id = ?`,
    nodeId,
  );
  return row!;
}

const expected = (r: Row) =>
  routeRank({
    status: r.status,
    eligible: r.eligible === 1,
    suspended: r.suspended === 1,
    free: r.free,
    rttExcessMs: r.rtt_excess_ms,
    pricePerGpuHour: r.price_per_gpu_hour,
    reputation: r.reputation,
    onlineMs: r.online_ms,
    lastSeenAt: r.last_seen_at,
    registeredAt: r.registered_at,
    stakeTotal: r.stake_total,
  });

describe('route rank', () => {
  it('follows GPU commitments, eligibility and status, and equals routeRank()', async () => {
    const node = await readyNode({ location: { lat: 43.65, lon: -79.38, country: 'CA' } });
    let row = await rowOf(node.nodeId);
    expect(row).toMatchObject({ free: 2, count: 2, price: row.price_per_gpu_hour });
    expect(row.route_rank).toBeGreaterThan(0);
    expect(row.route_rank).toBe(expected(row));

    // Two jobs take both GPUs: the group drops out of the pre-filter; a cancel brings it back.
    const renter = await newRenter();
    const body = jobBody({ client: { lat: 43.6, lon: -79.4 } });
    const a = await json(await renter.call('POST', '/v1/jobs', body), 201);
    expect((await rowOf(node.nodeId)).free).toBe(1);
    await json(await renter.call('POST', '/v1/jobs', body), 201);
    row = await rowOf(node.nodeId);
    expect(row).toMatchObject({ free: 0, route_rank: 0 });
    await json(await renter.call('POST', `/v1/jobs/${a.id}/cancel`), 200);
    row = await rowOf(node.nodeId);
    expect(row.free).toBe(1);
    expect(row.route_rank).toBe(expected(row));
    expect(row.route_rank).toBeGreaterThan(0);

    // Unstaking below the minimum makes the node ineligible: rank 0.
    expect((await authed(node.operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '1' })).status).toBe(201);
    expect(await rowOf(node.nodeId)).toMatchObject({ eligible: 0, route_rank: 0 });
  });

  it('agrees with routeRank() for whatever the node row holds', async () => {
    const node = await readyNode({ location: { lat: 39.9, lon: 116.4, country: 'CN' } });
    const cases = [
      { reputation: 0.3, online_ms: 1_000, rtt_excess_ms: 42.5, stake_total: 0, price_per_gpu_hour: 9_000_000 },
      { reputation: 1, online_ms: 10 ** 9, rtt_excess_ms: null, stake_total: 7_000_000_000, price_per_gpu_hour: 1 },
      { reputation: 0.95, online_ms: 3_600_000, rtt_excess_ms: -4, stake_total: 400_000_000, price_per_gpu_hour: 1_250_000 },
    ];
    for (const c of cases) {
      await env.DB.prepare(
        'UPDATE nodes SET reputation = ?2, online_ms = ?3, rtt_excess_ms = ?4, stake_total = ?5, price_per_gpu_hour = ?6 WHERE id = ?1',
      )
        .bind(node.nodeId, c.reputation, c.online_ms, c.rtt_excess_ms, c.stake_total, c.price_per_gpu_hour)
        .run();
      const row = await rowOf(node.nodeId);
      expect(row.price).toBe(c.price_per_gpu_hour);
      expect(row.route_rank).toBe(expected(row));
    }
    await env.DB.prepare(`UPDATE nodes SET status = 'offline' WHERE id = ?`).bind(node.nodeId).run();
    expect((await rowOf(node.nodeId)).route_rank).toBe(0);
  });
});
