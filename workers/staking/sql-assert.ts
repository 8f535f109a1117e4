// Moved to workers/ledger/sql-assert.ts (the ledger sits under staking; issue 13). This re-export
// only keeps workers/endpoints/replica-change.ts (in progress elsewhere) building until it imports
// from the ledger; delete it then.
export { assertChanged, assertChangedExactly, assertionFailed } from '../ledger/sql-assert.ts';
