// `npm run bench`: starts the local stack once and prints every benchmark's table.
// Benchmarks report; they never fail on a number.
import { startLocalStack } from '../support/local-stack.ts';
import { printTable, type BenchRow } from './bench-table.ts';
import { heartbeatBench } from './registry/heartbeat-bench.ts';

type Section = { title: string; run: () => Promise<BenchRow[]> };

const stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '1', LIVE_FOLD_INTERVAL_S: '30' });
const sections: Section[] = [{ title: 'Node registry (local stack)', run: () => heartbeatBench(stack) }];

let failed = false;
try {
  for (const section of sections) {
    try {
      printTable(section.title, await section.run());
    } catch (err) {
      failed = true;
      console.error(`\n## ${section.title}: failed\n`, err);
    }
  }
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
