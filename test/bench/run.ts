// `npm run bench`: starts the local stack once and prints every benchmark's table.
// Benchmarks report; they never fail on a number. Sections that compare things measure both
// sides in the same run, because absolute times on these machines are noisy.
import { startLocalStack } from '../support/local-stack.ts';
import { printTable, type BenchRow } from './bench-table.ts';
import { runExplorerBench } from './explorer/explorer-bench.ts';
import { ledgerBench } from './ledger/ledger-bench.ts';
import { dispatchBench, quoteBench, quoteCpuBench } from './jobs/jobs-bench.ts';
import { heartbeatBench } from './registry/heartbeat-bench.ts';
import { epochCloseBench } from './rewards/epoch-close-bench.ts';
import { runRoutingEval } from './routing/routing-eval.ts';
import { measurePayoutCapacity } from './settlement/payout-capacity.ts';
import { simBench } from './sim/sim-bench.ts';
import { mutateBench } from './mutate/mutate-bench.ts';
import { bundleBench } from './deploy/bundle-bench.ts';
import { endpointRouteBench } from './endpoints/route-bench.ts';
import { endpointBench } from './endpoints/endpoint-bench.ts';

type Section = { title: string; run: () => Promise<BenchRow[]> | BenchRow[] };

const stack = await startLocalStack({ HEARTBEAT_INTERVAL_S: '1', LIVE_FOLD_INTERVAL_S: '30' });
const sections: Section[] = [
  { title: 'Node registry (local stack)', run: () => heartbeatBench(stack) },
  { title: 'Ledger (local stack)', run: () => ledgerBench(stack) },
  { title: 'Routing quality and quote time (synthetic world, pure code)', run: () => runRoutingEval() },
  { title: 'Endpoints: routing decision CPU per request (pure code, Node)', run: () => endpointRouteBench() },
  {
    title: 'Endpoints: gateway overhead, failover, cold start (local stack, real agents, process runtime)',
    run: () => endpointBench(stack),
  },
  { title: 'Solana payouts (litesvm)', run: () => measurePayoutCapacity() },
  { title: 'Epoch close at 1k / 10k / 100k nodes (local D1, its own platform proxy)', run: () => epochCloseBench() },
  { title: 'Fault simulator: fixed seeds (workerd, real D1, litesvm)', run: () => simBench() },
  { title: 'Deploy bundle (wrangler deploy --dry-run --env production; wrangler check startup)', run: () => bundleBench() },
  { title: 'Explorer (Chromium, local stack)', run: () => runExplorerBench(stack) },
  // Last: the quote bench seeds 100,000 nodes into the stack's D1.
  { title: 'Jobs: dispatch (local stack)', run: () => dispatchBench(stack) },
  { title: 'Jobs: quotes at scale (local stack, real quote path)', run: () => quoteBench(stack) },
  { title: 'Jobs: quote CPU, D1 excluded (Node, the real quote code over the same candidate sets)', run: () => quoteCpuBench() },
  { title: 'Mutation testing (npm run mutate: each breaking edit must fail its tests)', run: () => mutateBench() },
];

// `npm run bench -- --only <text>`: only the sections whose title contains it (case-insensitive).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1]?.toLowerCase() : undefined;

let failed = false;
try {
  for (const section of sections) {
    if (only && !section.title.toLowerCase().includes(only)) continue;
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
