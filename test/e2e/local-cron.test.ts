import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { initAgent, runAgent, waitFor } from './agent-process.ts';

// `npm start` fires the minute cron by itself, as Cloudflare does when deployed: a node whose
// agent stops goes offline without anyone opening /__scheduled (this file never calls runCron).
// The period is 2 s here (LOCAL_CRON_INTERVAL_S, read by workers/scripts/start.ts) so it takes seconds.

let stack: LocalStack;
const previous = process.env.LOCAL_CRON_INTERVAL_S;

beforeAll(async () => {
  process.env.LOCAL_CRON_INTERVAL_S = '2';
  stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '1', HEARTBEAT_SHARDS: '4' });
});

afterAll(async () => {
  if (previous === undefined) delete process.env.LOCAL_CRON_INTERVAL_S;
  else process.env.LOCAL_CRON_INTERVAL_S = previous;
  await stack?.stop();
});

describe('npm start runs the cron', () => {
  it('takes a stopped node offline with no one triggering the cron', async () => {
    const agent = runAgent(
      initAgent({ url: stack.url, name: 'cron-rig', lat: 48.85, lon: 2.35, country: 'FR', simulateGpus: 'RTX 4090x1' }),
    );
    try {
      await waitFor('node online', async () => {
        const res = await fetch(`${stack.url}/v1/nodes/${agent.nodeId}`);
        return res.ok && ((await res.json()) as { status: string }).status === 'online' ? true : undefined;
      });
    } finally {
      expect(await agent.stop('SIGTERM')).toBe(0);
    }
    const offline = await waitFor('node offline by the local cron', async () => {
      const node = (await (await fetch(`${stack.url}/v1/nodes/${agent.nodeId}`)).json()) as { status: string };
      return node.status === 'offline' ? node : undefined;
    });
    expect(offline.status).toBe('offline');
  });
});
