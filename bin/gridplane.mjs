#!/usr/bin/env node
// The renters' command-line tool, from a checkout, on Node >= 20: tsx's loader lets Node import
// the TypeScript sources directly (as edge-agent/bin/gridplane-agent.mjs does).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/src/main.ts');
process.exitCode = await main(process.argv.slice(2));
