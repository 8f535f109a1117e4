// The process entry point, shared by the checkout's bin (through tsx) and the built bundle
// (edge-agent/dist/gridplane-agent.mjs): run the CLI, exit with its code.
import { main } from './cli.ts';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Every handle should be closed by now; if a stray one (an idle keep-alive socket) holds the
// process open, do not hang on it.
setTimeout(() => process.exit(code), 2000).unref();
