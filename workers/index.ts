import { app } from './app.ts';
import { sweepShards } from './cron/sweep-shards.ts';
import { closeEpochs } from './cron/close-epoch.ts';
import { runGovernanceCron } from './cron/governance.ts';
import { sweepJobs } from './cron/sweep-jobs.ts';
import { runSettlementCron } from './cron/settlement.ts';
import type { Env } from './env.ts';
import { runAlertsCron } from './alerts/alerts-cron.ts';
import { handleAlertBatch } from './alerts/alert-fanout.ts';

export { NodeShard } from './live/node-shard.do.ts';
export { AlertChat } from './alerts/alert-chat.do.ts';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // scheduledTime, not Date.now(): the sweep judges liveness at the instant the trigger fired.
    await sweepShards(env, controller.scheduledTime);
    await closeEpochs(env, controller.scheduledTime);
    await runGovernanceCron(env, controller.scheduledTime, ctx);
    await runAlertsCron(env, controller.scheduledTime);
    await runSettlementCron(env, controller.scheduledTime);
    await sweepJobs(env, controller.scheduledTime);
  },
  queue: (batch, env) => handleAlertBatch(batch, env),
} satisfies ExportedHandler<Env>;
