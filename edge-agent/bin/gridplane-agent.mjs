#!/usr/bin/env node
// Entry point from a checkout, for plain Node >= 20: tsx's loader lets Node import the TypeScript
// sources directly. The published package runs the bundle instead (edge-agent/dist/, built by
// `npm run agent:build`).
import { register } from 'tsx/esm/api';

register();
await import('../src/entry.ts');
