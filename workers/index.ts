import { app } from './app.ts';
import { sweepShards } from './cron/sweep-shards.ts';
import { sweepJobs } from './cron/sweep-jobs.ts';
import type { Env } from './env.ts';

export { NodeShard } from './live/node-shard.do.ts';

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    // scheduledTime, not Date.now(): the sweep judges liveness at the instant the trigger fired.
    await sweepShards(env, controller.scheduledTime);
    await sweepJobs(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
