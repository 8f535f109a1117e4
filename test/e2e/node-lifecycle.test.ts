import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { initAgent, runAgent, waitFor } from './agent-process.ts';

// The real local control plane and a real agent process in simulate mode: the node comes online,
// the agent stops, and the cron sweep takes the node offline. Intervals are 1 s through
// configuration, so the whole story takes seconds.

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '1', HEARTBEAT_SHARDS: '4' });
});

afterAll(async () => {
  await stack?.stop();
});

const getNode = async (id: string) => {
  const res = await fetch(`${stack.url}/v1/nodes/${id}`);
  return res.ok ? ((await res.json()) as Record<string, any>) : undefined;
};

describe('a node joins, lives and leaves', () => {
  it('comes online with simulated GPUs, heartbeats, and goes offline after the agent stops', async () => {
    const agent = runAgent(
      initAgent({ url: stack.url, name: 'e2e-rig', lat: 35.68, lon: 139.69, country: 'JP', simulateGpus: 'RTX 4090x2' }),
    );
    try {
      const online = await waitFor('node online', async () => {
        const node = await getNode(agent.nodeId);
        return node?.status === 'online' && node.metrics?.gpus?.length === 2 ? node : undefined;
      });
      expect(online).toMatchObject({
        id: agent.nodeId,
        name: 'e2e-rig',
        simulated: true,
        gpus: [{ model: 'NVIDIA GeForce RTX 4090', count: 2, simulated: true }],
        location: { country: 'JP' },
      });
      expect(agent.output()).toMatch(/simulated/i);
      // Several heartbeats at the server's 1 s interval.
      await waitFor('uptime accrues', async () => ((await getNode(agent.nodeId))!.uptime.onlineSeconds >= 2 ? true : undefined));
    } finally {
      expect(await agent.stop('SIGTERM')).toBe(0);
    }

    // Silent for more than three intervals: the next sweep marks it offline.
    const offline = await waitFor('node offline', async () => {
      await stack.runCron();
      const node = await getNode(agent.nodeId);
      return node?.status === 'offline' ? node : undefined;
    });
    expect(offline.status).toBe('offline');
    const listed = (await (await fetch(`${stack.url}/v1/nodes?status=offline`)).json()) as { nodes: { id: string }[] };
    expect(listed.nodes.map((n) => n.id)).toContain(agent.nodeId);
  });

  it('a restarted agent brings its node back online', async () => {
    const setup = initAgent({ url: stack.url, name: 'comeback', lat: 52.52, lon: 13.4, country: 'DE', simulateGpus: 'H100x1' });
    const first = runAgent(setup);
    await waitFor('online', async () => ((await getNode(setup.nodeId))?.status === 'online' ? true : undefined));
    expect(await first.stop()).toBe(0);
    await waitFor('offline', async () => {
      await stack.runCron();
      return (await getNode(setup.nodeId))?.status === 'offline' ? true : undefined;
    });
    const second = runAgent(setup);
    try {
      await waitFor('back online', async () => ((await getNode(setup.nodeId))?.status === 'online' ? true : undefined));
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
