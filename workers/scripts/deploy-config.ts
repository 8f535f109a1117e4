// What the deploy preflight needs from a wrangler config, read with wrangler's own reader so each
// environment resolves exactly as `wrangler deploy --env <name>` resolves it (inheritance
// included). Offline: reads the file, asks Cloudflare nothing.
import { experimental_readRawConfig, unstable_readConfig, type Unstable_Config } from 'wrangler';
import type { DeployFacts, EnvFacts } from './deploy-preflight.ts';

export type DeployConfig = Pick<DeployFacts, 'envs' | 'topLevelBindings' | 'topLevelVars' | 'cpuMs'>;

function bindingsOf(c: Unstable_Config): string[] {
  return [
    ...c.durable_objects.bindings.map((b) => b.name),
    ...c.d1_databases.map((d) => d.binding),
    ...(c.queues.producers ?? []).map((q) => q.binding),
    ...c.ratelimits.map((r) => r.name),
  ];
}

export function readDeployConfig(configPath: string): DeployConfig {
  const read = (env: string | undefined): Unstable_Config => unstable_readConfig({ config: configPath, env }, { hideWarnings: true });
  const envFacts = (name: string): EnvFacts => {
    const c = read(name);
    const routes = [...(c.routes ?? []), ...(c.route ? [c.route] : [])].map((r) => (typeof r === 'string' ? r : r.pattern));
    const consumers = c.queues.consumers ?? [];
    const queues = [
      ...(c.queues.producers ?? []).map((q) => q.queue),
      ...consumers.map((q) => q.queue),
      ...consumers.flatMap((q) => (q.dead_letter_queue ? [q.dead_letter_queue] : [])),
    ];
    return {
      name,
      workerName: c.name ?? name,
      d1: c.d1_databases.map((d) => ({ binding: d.binding, databaseName: d.database_name ?? d.binding, databaseId: d.database_id })),
      queues: [...new Set(queues.filter((q): q is string => typeof q === 'string'))],
      bindings: bindingsOf(c),
      vars: Object.keys(c.vars ?? {}),
      secretsRequired: c.secrets?.required,
      workersDev: c.workers_dev === true,
      routes,
    };
  };
  const top = read(undefined);
  const envNames = Object.keys(experimental_readRawConfig({ config: configPath }).rawConfig.env ?? {});
  return {
    envs: envNames.map(envFacts),
    topLevelBindings: bindingsOf(top),
    topLevelVars: Object.keys(top.vars ?? {}),
    cpuMs: top.limits?.cpu_ms,
  };
}
