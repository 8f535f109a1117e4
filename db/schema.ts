// The single source of truth for D1. Each domain keeps its tables in db/schema/<domain>.ts;
// `npm run db:generate` turns changes here into SQL migrations under db/migrations.
export * from './schema/nodes.ts';
export * from './schema/accounts.ts';
export * from './schema/ledger.ts';
export * from './schema/jobs.ts';
export * from './schema/telegram.ts';
export * from './schema/alerts.ts';
export * from './schema/staking.ts';
export * from './schema/governance.ts';
export * from './schema/discord.ts';
export * from './schema/endpoints.ts';
