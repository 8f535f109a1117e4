import type { ConfigOverrides } from '../config.ts';
import { startDaemon } from '../daemon.ts';
import { createLogger } from '../log.ts';

export interface RunInput {
  home: string;
  overrides: ConfigOverrides;
  intervalMs?: number;
  json: boolean;
}

/** Runs the daemon until SIGINT or SIGTERM; both abort in-flight requests and end with exit 0. */
export async function runCommand(input: RunInput): Promise<number> {
  const logger = createLogger({ json: input.json });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    logger.info('signal', `received ${signal}, stopping`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await startDaemon({
      home: input.home,
      signal: controller.signal,
      logger,
      overrides: input.overrides,
      intervalMs: input.intervalMs,
    });
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
