import { botPorts } from '../bots/ports.ts';
import { app } from './app.ts';
import { handleAlertBatch } from './alerts/alert-fanout.ts';
import { runAlertsCron } from './alerts/alerts-cron.ts';
import { closeEpochs } from './cron/close-epoch.ts';
import { runGovernanceCron } from './cron/governance.ts';
import { runSettlementCron } from './cron/settlement.ts';
import { sweepJobs } from './cron/sweep-jobs.ts';
import { tendEndpoints } from './cron/endpoints.ts';
import { sweepShards } from './cron/sweep-shards.ts';
import type { Env } from './env.ts';

export { NodeShard } from './live/node-shard.do.ts';
export { AlertChat } from './alerts/alert-chat.do.ts';
export { NodeTunnel } from './tunnel/node-tunnel.do.ts';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // scheduledTime, not Date.now(): liveness and deadlines are judged at the instant the trigger
    // fired. The steps run in order (liveness first, so jobs on nodes that just went offline are
    // handled in the same tick; alerts after the steps that raise them) and each is isolated: one
    // failing step is logged and the rest still run. The cron then reports failure.
    const at = controller.scheduledTime;
    const steps: [string, () => Promise<unknown>][] = [
      ['liveness sweep', () => sweepShards(env, at)],
      ['job sweep', () => sweepJobs(env, at)],
      ['endpoints', () => tendEndpoints(env, at)],
      ['epoch close', () => closeEpochs(env, at)],
      ['governance', () => runGovernanceCron(env, at, ctx, botPorts)],
      ['alerts', () => runAlertsCron(env, at, botPorts)],
      ['settlement', () => runSettlementCron(env, at)],
    ];
    const failed: string[] = [];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        failed.push(name);
        console.error(`cron step "${name}" failed`, err);
      }
    }
    if (failed.length > 0) throw new Error(`cron steps failed: ${failed.join(', ')}`);
  },
  queue: (batch, env) => handleAlertBatch(batch, env),
} satisfies ExportedHandler<Env>;
