// The community treasury: protocol-owned tokens that governance grants from. It is the `system`
// ledger account the staking migration seeds (never negative), funded by the epoch
// close (the unburned share of protocol fees, FEE_BURN_BPS) or by an explicit mint allocation.
// It is not `system:treasury`, which is the ledger's boundary with the chain (deposits and
// payouts only): granting from there would create tokens no wallet holds.
export const COMMUNITY_TREASURY = 'system:community';
