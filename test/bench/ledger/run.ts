// Prints the ledger bench on its own: `npx tsx test/bench/ledger/run.ts` (starts a local stack).
import { startLocalStack } from '../../support/local-stack.ts';
import { printTable } from '../bench-table.ts';
import { ledgerBench } from './ledger-bench.ts';

const stack = await startLocalStack();
try {
  printTable('Ledger (local stack)', await ledgerBench(stack));
} finally {
  await stack.stop();
}
