import type { Address, TransactionSigner } from '@solana/kit';
import { assertCluster } from './cluster.ts';
import {
  ACTIVE_DEACTIVATION_SLOT,
  ADDRESSES_PER_EXTENSION,
  closeLookupTableInstruction,
  createLookupTableInstruction,
  deactivateLookupTableInstruction,
  decodeLookupTable,
  extendLookupTableInstruction,
  LOOKUP_TABLE_MAX_ADDRESSES,
  lookupTableAddress,
  SLOT_HASHES_SLOTS,
  type LookupTableState,
} from './lookup-table.ts';
import { observePayout } from './payout-step.ts';
import { buildTreasuryTransaction, type PayoutLookupTable } from './payout-transaction.ts';
import type { SolanaRpc } from './rpc-client.ts';
import { SolanaRpcError } from './rpc-error.ts';
import { base64ToBytes } from '../../protocol/signed-request.ts';

// The treasury's address lookup table, one safe step per cron run, kept like payout batches:
// every table transaction (create, extend, deactivate, close) is stored in D1 with its signature,
// wire bytes and lastValidBlockHeight BEFORE it is broadcast, and nothing else is signed for that
// table until each of them is finalized or provably dead (the same observation as payouts:
// finalized height past its lifetime and the status unknown to a node at the finalized slot).
// What the table holds is then read from the chain, never assumed: a crash anywhere — after the
// create, between an extension and its use — leaves a row whose pending transactions the next
// run settles, after which it extends by exactly what is still missing. So an address is never
// appended twice by overlapping attempts, and a batch is signed only with addresses that are in a
// finalized extension (usable from the slot after it).
//
// Lifecycle: `active` (created with the first extension in one transaction, then extended as v0
// batches need; at most one, a unique index) → `retired` when the next extension would pass 256
// addresses → deactivated once no signed/sent batch uses it → closed after the 512-slot cooldown,
// the rent back to the treasury → `closed`. A table whose creation never landed is `closed` too.

export type LookupTableStatus = 'active' | 'retired' | 'closed';

export interface PendingTableOp {
  kind: 'create' | 'extend' | 'deactivate' | 'close';
  lastValidBlockHeight: number;
  transactions: { signature: string; wire: string }[];
}

export interface LookupTableRecord {
  id: string;
  address: string;
  recentSlot: number;
  status: LookupTableStatus;
  /** Compare-and-swap version: every save moves it by one. */
  version: number;
  pending: PendingTableOp | null;
}

export interface LookupTableDeps {
  rpc: SolanaRpc;
  treasury: TransactionSigner;
  genesisHash: string | null;
  /** Store `next` only if the row still has `expectedVersion` (one row changed); say whether it did. */
  save(next: LookupTableRecord, expectedVersion: number): Promise<boolean>;
  /** Insert a new active table; false when another active one exists (an overlapping run made it). */
  insert(record: LookupTableRecord): Promise<boolean>;
  /** Extension transactions signed per step (each carries ADDRESSES_PER_EXTENSION addresses). */
  extensionsPerStep?: number;
}

export type TableStepOutcome =
  | 'waiting' // a pending transaction is not final yet (or was re-broadcast)
  | 'ready' // holds every needed address
  | 'extending'
  | 'creating'
  | 'retired'
  | 'deactivating'
  | 'closing'
  | 'closed'
  | 'in_use' // retired, but an open batch's transaction still uses it
  | 'cooling_down' // deactivated, not closable yet
  | 'conflict'; // another run changed the row first

export interface TableStepResult {
  outcome: TableStepOutcome;
  record: LookupTableRecord | null;
  /** The table's finalized contents, when it is active and nothing is pending for it. */
  table: PayoutLookupTable | null;
}

/**
 * One step for the active table: settle what is pending, then create or extend it until it holds
 * `needed` (in order, without duplicates). `record` is the active row or null.
 */
export async function stepActiveTable(
  deps: LookupTableDeps,
  record: LookupTableRecord | null,
  needed: readonly string[],
): Promise<TableStepResult> {
  if (record?.pending) {
    const settled = await settlePending(deps, record);
    if (settled.outcome !== 'settled') return { outcome: settled.outcome, record: settled.record, table: null };
    record = settled.record;
  }
  if (record) {
    const onChain = await readTable(deps.rpc, record.address);
    if (!onChain || onChain.deactivationSlot !== ACTIVE_DEACTIVATION_SLOT) {
      // Its creation never landed (or failed): the address can never be created any more, since
      // its recent slot leaves SlotHashes long before anyone could retry that transaction.
      const closed = { ...record, status: onChain ? 'retired' : 'closed', version: record.version + 1 } as LookupTableRecord;
      if (!(await deps.save(closed, record.version))) return { outcome: 'conflict', record, table: null };
      record = null;
    } else {
      const held = new Set<string>(onChain.addresses);
      const missing = unique(needed).filter((a) => !held.has(a));
      const table = { address: record.address, addresses: onChain.addresses };
      if (missing.length === 0) return { outcome: 'ready', record, table };
      if (onChain.addresses.length + missing.length > LOOKUP_TABLE_MAX_ADDRESSES) {
        const retired: LookupTableRecord = { ...record, status: 'retired', version: record.version + 1 };
        if (!(await deps.save(retired, record.version))) return { outcome: 'conflict', record, table: null };
        return { outcome: 'retired', record: retired, table: null };
      }
      return extend(deps, record, missing, table);
    }
  }
  if (unique(needed).length === 0) return { outcome: 'ready', record: null, table: null };
  return create(deps, unique(needed));
}

/**
 * One step for a retired table: settle what is pending; once no open batch uses it (`inUse`),
 * deactivate it, and close it when the cooldown is over.
 */
export async function stepRetiredTable(deps: LookupTableDeps, record: LookupTableRecord, inUse: boolean): Promise<TableStepResult> {
  if (record.pending) {
    const settled = await settlePending(deps, record);
    if (settled.outcome !== 'settled') return { outcome: settled.outcome, record: settled.record, table: null };
    record = settled.record;
  }
  const onChain = await readTable(deps.rpc, record.address);
  if (!onChain) {
    const closed: LookupTableRecord = { ...record, status: 'closed', version: record.version + 1 };
    if (!(await deps.save(closed, record.version))) return { outcome: 'conflict', record, table: null };
    return { outcome: 'closed', record: closed, table: null };
  }
  if (inUse) return { outcome: 'in_use', record, table: null };
  const treasury = deps.treasury;
  const table = record.address as Address;
  if (onChain.deactivationSlot === ACTIVE_DEACTIVATION_SLOT) {
    return sign(deps, record, 'deactivate', [[deactivateLookupTableInstruction({ table, treasury })]], 'deactivating');
  }
  const { slot } = await deps.rpc.getEpochInfo('finalized');
  // Closable once the deactivation slot has left SlotHashes; one slot of margin.
  if (BigInt(slot) <= onChain.deactivationSlot + BigInt(SLOT_HASHES_SLOTS)) return { outcome: 'cooling_down', record, table: null };
  return sign(deps, record, 'close', [[closeLookupTableInstruction({ table, treasury })]], 'closing');
}

async function create(deps: LookupTableDeps, needed: string[]): Promise<TableStepResult> {
  await assertCluster(deps.rpc, deps.genesisHash);
  // A finalized slot is in every later bank's SlotHashes (for 512 slots), as creation requires.
  const { slot } = await deps.rpc.getEpochInfo('finalized');
  const { address, bump } = await lookupTableAddress(deps.treasury.address, BigInt(slot));
  const table = address;
  const first = needed.slice(0, ADDRESSES_PER_EXTENSION) as Address[];
  const instructions = [
    createLookupTableInstruction({ table, treasury: deps.treasury, recentSlot: BigInt(slot), bump }),
    extendLookupTableInstruction({ table, treasury: deps.treasury, addresses: first }),
  ];
  const { blockhash, lastValidBlockHeight } = await deps.rpc.getLatestBlockhash('confirmed');
  const tx = await buildTreasuryTransaction(deps.treasury, instructions, blockhash, lastValidBlockHeight);
  const record: LookupTableRecord = {
    id: `lt_${address}`,
    address,
    recentSlot: slot,
    status: 'active',
    version: 0,
    pending: { kind: 'create', lastValidBlockHeight, transactions: [{ signature: tx.signature, wire: tx.wireBase64 }] },
  };
  // Stored before the first byte leaves; an overlapping run that made its own table first wins.
  if (!(await deps.insert(record))) return { outcome: 'conflict', record: null, table: null };
  await broadcastAll(deps.rpc, record.pending!);
  return { outcome: 'creating', record, table: null };
}

async function extend(
  deps: LookupTableDeps,
  record: LookupTableRecord,
  missing: string[],
  table: PayoutLookupTable,
): Promise<TableStepResult> {
  const chunks: Address[][] = [];
  const perStep = deps.extensionsPerStep ?? 4;
  for (let i = 0; i < missing.length && chunks.length < perStep; i += ADDRESSES_PER_EXTENSION) {
    chunks.push(missing.slice(i, i + ADDRESSES_PER_EXTENSION) as Address[]);
  }
  const at = table.address as Address;
  const result = await sign(
    deps,
    record,
    'extend',
    chunks.map((addresses) => [extendLookupTableInstruction({ table: at, treasury: deps.treasury, addresses })]),
    'extending',
  );
  return result;
}

/** Signs one transaction per instruction list, stores them as the row's pending op, then broadcasts. */
async function sign(
  deps: LookupTableDeps,
  record: LookupTableRecord,
  kind: PendingTableOp['kind'],
  transactions: Parameters<typeof buildTreasuryTransaction>[1][],
  outcome: TableStepOutcome,
): Promise<TableStepResult> {
  await assertCluster(deps.rpc, deps.genesisHash);
  const { blockhash, lastValidBlockHeight } = await deps.rpc.getLatestBlockhash('confirmed');
  const signed = await Promise.all(
    transactions.map((ixs) => buildTreasuryTransaction(deps.treasury, ixs, blockhash, lastValidBlockHeight)),
  );
  const next: LookupTableRecord = {
    ...record,
    version: record.version + 1,
    pending: { kind, lastValidBlockHeight, transactions: signed.map((t) => ({ signature: t.signature, wire: t.wireBase64 })) },
  };
  if (!(await deps.save(next, record.version))) return { outcome: 'conflict', record, table: null };
  await broadcastAll(deps.rpc, next.pending!);
  return { outcome, record: next, table: null };
}

/**
 * Settled when every pending transaction is finalized (succeeded or failed: the chain shows which)
 * or provably dead. Until then, live ones not seen on chain are re-broadcast (same bytes: harmless).
 */
async function settlePending(
  deps: LookupTableDeps,
  record: LookupTableRecord,
): Promise<{ outcome: 'settled' | 'waiting' | 'conflict'; record: LookupTableRecord }> {
  const pending = record.pending!;
  let waiting = false;
  for (const tx of pending.transactions) {
    const seen = await observePayout(deps.rpc, tx.signature);
    if (seen.status) {
      if (seen.status.confirmationStatus !== 'finalized') waiting = true;
      continue;
    }
    if (seen.finalizedBlockHeight <= pending.lastValidBlockHeight) {
      waiting = true;
      await broadcastAll(deps.rpc, { ...pending, transactions: [tx] });
      continue;
    }
    // Past its lifetime, but "unknown" from a node behind the finalized slot proves nothing.
    if (seen.statusContextSlot === null || seen.statusContextSlot < seen.finalizedSlot) waiting = true;
  }
  if (waiting) return { outcome: 'waiting', record };
  const next: LookupTableRecord = { ...record, version: record.version + 1, pending: null };
  if (!(await deps.save(next, record.version))) return { outcome: 'conflict', record };
  return { outcome: 'settled', record: next };
}

async function broadcastAll(rpc: SolanaRpc, pending: PendingTableOp): Promise<void> {
  for (const tx of pending.transactions) {
    try {
      await rpc.sendTransaction(tx.wire);
    } catch (error) {
      // Unconfirmed or refused: the next step reads the chain, as for payouts.
      if (!(error instanceof SolanaRpcError)) throw error;
      console.warn('settlement: lookup table broadcast unconfirmed', pending.kind, tx.signature, error.message);
    }
  }
}

/** The table as finalized; null when the account does not exist (or is not a lookup table). */
export async function readTable(rpc: SolanaRpc, address: string): Promise<LookupTableState | null> {
  const [account] = await rpc.getMultipleAccounts([address], 'finalized');
  if (!account) return null;
  const data = base64ToBytes(account.data[0]);
  return data ? decodeLookupTable(data) : null;
}

function unique(addresses: readonly string[]): string[] {
  return [...new Set(addresses)];
}
