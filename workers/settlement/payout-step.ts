import type { Address, TransactionSigner } from '@solana/kit';
import { assertCluster } from './cluster.ts';
import type { PayoutRequest } from './payout-plan.ts';
import {
  DEFAULT_PAYOUT_POLICY,
  nextPayoutAction,
  type ChainObservation,
  type PayoutAction,
  type PayoutBatchRecord,
  type PayoutPolicy,
} from './payout-state.ts';
import { buildPayoutTransaction, type PayoutLookupTable } from './payout-transaction.ts';
import { associatedTokenAccount } from './transfer-request.ts';
import type { SolanaRpc } from './rpc-client.ts';
import { MIN_CONTEXT_SLOT_NOT_REACHED, SolanaRpcError } from './rpc-error.ts';

// The thin I/O around payout-state.ts: observe the chain, ask `nextPayoutAction`, act, persist.
// The cron calls `runPayoutStep` once per open batch per tick; each call is one safe step.

export interface PayoutStepDeps {
  rpc: SolanaRpc;
  treasury: TransactionSigner;
  mint: Address;
  decimals: number;
  /** Config `genesisHash`; checked before anything is signed. */
  genesisHash: string | null;
  /**
   * Compare-and-swap persistence: store `next` only if the stored row still has
   * `expected.attempt` and `expected.state`, and say whether it did (D1: `UPDATE … WHERE id = ?
   * AND attempt = ? AND state = ?`, then `meta.changes === 1`). This is what stops two
   * overlapping cron runs from both re-signing a batch, i.e. from paying it twice.
   */
  save(next: PayoutBatchRecord, expected: Pick<PayoutBatchRecord, 'attempt' | 'state'>): Promise<boolean>;
  priorityFeeMicroLamports?: bigint;
  policy?: PayoutPolicy;
  /**
   * The batch was planned for a v0 transaction (more payouts than a legacy one holds): it is
   * signed only with `lookupTable` holding every account it names, else the step waits.
   */
  useLookupTable?: boolean;
  /** The treasury's active table, as finalized on chain (null while it is made or extended). */
  lookupTable?: PayoutLookupTable | null;
}

export interface PayoutStepResult {
  action: PayoutAction;
  /** The record as stored after this step. */
  record: PayoutBatchRecord;
  /** The broadcast failed or timed out; harmless, the next step looks at the chain again. */
  sendError?: SolanaRpcError;
  /** Another run changed the row first; this step did nothing after noticing. */
  conflict?: boolean;
}

/**
 * Reads the finalized block height (with its slot, from one bank) first, then the status from a
 * node at or past that slot: in that order, "absent" is a proof. A node behind it answers -32016
 * or a lower context slot; either way the observation says so and nothing is re-signed on it.
 */
export async function observePayout(rpc: SolanaRpc, signature: string): Promise<ChainObservation> {
  const finalized = await rpc.getEpochInfo('finalized');
  const base = { finalizedBlockHeight: finalized.blockHeight, finalizedSlot: finalized.slot };
  try {
    const { contextSlot, statuses } = await rpc.getSignatureStatusesAt([signature], finalized.slot);
    return { ...base, statusContextSlot: contextSlot, status: statuses[0] ?? null };
  } catch (error) {
    if (error instanceof SolanaRpcError && error.rpcCode === MIN_CONTEXT_SLOT_NOT_REACHED)
      return { ...base, statusContextSlot: null, status: null };
    throw error;
  }
}

/**
 * One step for one batch. `payouts` are the batch's payouts exactly as planned: a re-signed
 * transaction must pay the same recipients the same amounts.
 */
export async function runPayoutStep(
  deps: PayoutStepDeps,
  record: PayoutBatchRecord,
  payouts: readonly PayoutRequest[],
): Promise<PayoutStepResult> {
  const observation =
    (record.state === 'signed' || record.state === 'sent') && record.signature ? await observePayout(deps.rpc, record.signature) : null;
  const action = nextPayoutAction(record, observation, deps.policy ?? DEFAULT_PAYOUT_POLICY);
  switch (action.kind) {
    case 'none':
    case 'wait':
      return { action, record };
    case 'mark_paid':
      return persist(deps, action, record, { ...record, state: 'paid', landedSlot: action.slot });
    case 'mark_failed':
      return persist(deps, action, record, {
        ...record,
        state: 'failed',
        failureReason: action.reason,
        landedSlot: action.slot ?? null,
      });
    case 'broadcast':
      return broadcast(deps, action, record);
    case 'sign':
    case 're_sign': {
      let lookupTable: PayoutLookupTable | undefined;
      if (deps.useLookupTable) {
        // Signing without every account in the table would not fit; waiting costs a tick.
        if (!deps.lookupTable || !(await tableHoldsBatch(deps, deps.lookupTable, payouts))) {
          return { action: { kind: 'wait', reason: 'lookup_table_not_ready' }, record };
        }
        lookupTable = deps.lookupTable;
      }
      await assertCluster(deps.rpc, deps.genesisHash);
      const { blockhash, lastValidBlockHeight } = await deps.rpc.getLatestBlockhash('confirmed');
      const tx = await buildPayoutTransaction({
        treasury: deps.treasury,
        mint: deps.mint,
        decimals: deps.decimals,
        payouts,
        blockhash,
        lastValidBlockHeight,
        priorityFeeMicroLamports: deps.priorityFeeMicroLamports,
        lookupTable,
      });
      const signed: PayoutBatchRecord = {
        ...record,
        state: 'signed',
        attempt: record.attempt + 1,
        signature: tx.signature,
        wireTransaction: tx.wireBase64,
        blockhash: tx.blockhash,
        lastValidBlockHeight: tx.lastValidBlockHeight,
        failureReason: null, // a new transaction: the old one's preflight verdict is not its
        lookupTable: tx.lookupTable,
      };
      // Stored before the first byte leaves: from here on the signature is never unknown.
      if (!(await deps.save(signed, record))) return { action, record, conflict: true };
      return broadcast(deps, action, signed);
    }
  }
}

/** The accounts a v0 payout batch looks up: our mint, the treasury's token account, each recipient's. */
export async function payoutTableAddresses(treasury: Address, mint: Address, payouts: readonly PayoutRequest[]): Promise<string[]> {
  const owners = [...new Set(payouts.map((p) => p.recipientOwner))];
  const atas = await Promise.all(owners.map((o) => associatedTokenAccount(o as Address, mint)));
  return [mint, await associatedTokenAccount(treasury, mint), ...atas];
}

async function tableHoldsBatch(deps: PayoutStepDeps, table: PayoutLookupTable, payouts: readonly PayoutRequest[]): Promise<boolean> {
  const held = new Set(table.addresses);
  return (await payoutTableAddresses(deps.treasury.address, deps.mint, payouts)).every((a) => held.has(a));
}

async function broadcast(deps: PayoutStepDeps, action: PayoutAction, record: PayoutBatchRecord): Promise<PayoutStepResult> {
  try {
    await deps.rpc.sendTransaction(record.wireTransaction!);
  } catch (error) {
    // Timeout, dropped connection, preflight "already processed": none of them says whether the
    // transaction landed. Keep the record; the next step reads the chain.
    if (!(error instanceof SolanaRpcError)) throw error;
    if (refusedByInstruction(error) && record.failureReason !== 'rejected_in_preflight') {
      // Remembered so that once it is provably dead the batch fails instead of re-signing the same transfers.
      const saved = await persist(deps, action, record, { ...record, failureReason: 'rejected_in_preflight' });
      return { ...saved, sendError: error };
    }
    return { action, record, sendError: error };
  }
  if (record.state !== 'signed') return { action, record };
  return persist(deps, action, record, { ...record, state: 'sent' });
}

/** The node simulated the transaction and an instruction failed (-32002 with an InstructionError). */
function refusedByInstruction(error: SolanaRpcError): boolean {
  if (error.kind !== 'rpc' || error.rpcCode !== -32002) return false;
  const err = (error.data as { err?: unknown } | undefined)?.err;
  return typeof err === 'object' && err !== null && 'InstructionError' in err;
}

async function persist(
  deps: PayoutStepDeps,
  action: PayoutAction,
  previous: PayoutBatchRecord,
  next: PayoutBatchRecord,
): Promise<PayoutStepResult> {
  if (!(await deps.save(next, previous))) return { action, record: previous, conflict: true };
  return { action, record: next };
}
