// The payout side of settlement, in one import for the ledger: plan → build → step.
export { chooseLookupTable, estimatePayoutTxSize, MAX_TRANSACTION_BYTES, planPayoutBatches } from './payout-plan.ts';
export type { LookupTableChoice, PayoutPlan, PayoutRejection, PayoutRequest, PayoutTxOptions } from './payout-plan.ts';
export { buildPayoutTransaction, payoutTransactionMessage } from './payout-transaction.ts';
export type { PayoutLookupTable, PayoutTransactionInput, SignedPayoutTransaction } from './payout-transaction.ts';
export { DEFAULT_PAYOUT_POLICY, newPayoutBatch, nextPayoutAction } from './payout-state.ts';
export type { ChainObservation, PayoutAction, PayoutBatchRecord, PayoutBatchState, PayoutFailure, PayoutPolicy } from './payout-state.ts';
export { observePayout, payoutTableAddresses, runPayoutStep } from './payout-step.ts';
export type { PayoutStepDeps, PayoutStepResult } from './payout-step.ts';
export { markMissingRecipientAtas } from './recipient-accounts.ts';
