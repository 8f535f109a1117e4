// Prints the epoch-close bench on its own: `npx tsx test/bench/rewards/run.ts [sizes…]`.
import { printTable } from '../bench-table.ts';
import { epochCloseBench } from './epoch-close-bench.ts';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
printTable('Epoch close (local D1)', await epochCloseBench(sizes.length > 0 ? sizes : undefined));
