#!/usr/bin/env node
// Entry point for plain Node >= 20: tsx's loader lets Node import the TypeScript sources directly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Every handle should be closed by now; if a stray one (an idle keep-alive socket) holds the
// process open, do not hang on it.
setTimeout(() => process.exit(code), 2000).unref();
