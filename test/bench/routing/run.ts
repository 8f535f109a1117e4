// Prints the routing bench: `npx tsx test/bench/routing/run.ts`.

import { runRoutingEval } from './routing-eval.ts';

const rows = runRoutingEval();
const width = Math.max(...rows.map((r) => r.name.length));
console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(10)}  unit`);
for (const row of rows) {
  const value = row.unit === 'x' ? row.value.toFixed(2) : row.value.toFixed(row.value < 1 ? 3 : 2);
  console.log(`${row.name.padEnd(width)}  ${value.padStart(10)}  ${row.unit}`);
}
