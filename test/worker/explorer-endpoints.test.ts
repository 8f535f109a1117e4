import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { dbOf } from '../../workers/app-env.ts';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { endpointCreateSchema } from '../../workers/endpoints/endpoint-input.schema.ts';
import { createEndpoint } from '../../workers/endpoints/endpoints.service.ts';
import { recordReplicaState } from '../../workers/endpoints/replica-reports.ts';
import { wakeEndpoint } from '../../workers/endpoints/wake.ts';
import { TrafficCounters } from '../../workers/gateway/traffic-stats.ts';
import { api } from './helpers/agent.ts';
import { nodeAt } from './helpers/jobs.ts';
import { newFundedAccount } from './helpers/ledger.ts';

// The explorer's endpoints panel (workers/explorer/panels/endpoints.panel.ts) on real data: an
// endpoint placed and made ready the way the gateway and the tunnel do it, and traffic as the
// gateway counts and flushes it. The panel names no owner and no endpoint name.

const page = async () => {
  const res = await api('/', { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  return res.text();
};
const panelOf = (html: string) => /<section class="panel" id="endpoints"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';

describe('the explorer: endpoints and their traffic', () => {
  it('says when none is active, then shows one with its ready replica, where it runs and its traffic', async () => {
    expect(panelOf(await page())).toContain('No endpoint is active right now.');

    const node = await nodeAt(48.86, 2.35, 'FR', { gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 2 }] });
    const accountId = await newFundedAccount(100_000_000);
    const request = endpointCreateSchema.parse({
      name: 'secret-project',
      image: 'python:3.12-slim',
      port: 8000,
      gpu: { model: 'RTX 4090', count: 1 },
      maxPricePerGpuHour: '2.0',
    });
    const { endpoint } = await createEndpoint(
      endpointsContext(env),
      { accountId, request, regions: [{ lat: 48.86, lon: 2.35 }], maxPrice: 2_000_000n, idempotencyKey: null },
      Date.now(),
    );
    const woke = await wakeEndpoint(env, endpoint.id, Date.now());
    await recordReplicaState(
      env,
      node.nodeId,
      { type: 'replica_state', replicaId: woke.placed[0]!, state: 'ready', at: Date.now() },
      Date.now(),
    );
    const traffic = new TrafficCounters();
    for (const [status, ttfb] of [
      [200, 30],
      [200, 40],
      [502, 700],
      [200, 45],
      [200, 80],
    ] as const)
      traffic.record(endpoint.id, Date.now(), 'unknown', status, ttfb);
    await traffic.flush(dbOf(env), Date.now() + 60_000);

    const html = await page();
    const panel = panelOf(html);
    expect(panel).toContain(`<code>${endpoint.id}</code>`);
    // 5 requests over 5 minutes; TTFB buckets ≤50: 3, ≤100: 1, ≤1000: 1 → median in the ≤50 bucket.
    expect(panel).toMatch(/<td>1\/1<\/td><td>FR<\/td><td>1<\/td><td>\d+ ms<\/td><td>1<\/td>/);
    expect(panel).not.toContain('secret-project');
    expect(panel).not.toContain(accountId);
    expect(html).toContain('Endpoint requests');
  });
});
