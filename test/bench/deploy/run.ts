// Prints the deploy-bundle bench on its own: `npx tsx test/bench/deploy/run.ts`.
import { printTable } from '../bench-table.ts';
import { bundleBench } from './bundle-bench.ts';

printTable('Deploy bundle (wrangler deploy --dry-run --env production; wrangler check startup)', bundleBench());
