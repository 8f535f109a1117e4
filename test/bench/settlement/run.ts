// Prints the payout capacity bench: `npx tsx test/bench/settlement/run.ts`.

import { measurePayoutCapacity } from './payout-capacity.ts';

const rows = await measurePayoutCapacity();
const width = Math.max(...rows.map((r) => r.name.length));
console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(6)}  unit`);
for (const row of rows) console.log(`${row.name.padEnd(width)}  ${String(row.value).padStart(6)}  ${row.unit}`);
