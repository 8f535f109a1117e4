// Over 300 lines: one class that adds what an RPC node knows (blocks, commitments, blockhash lifetimes, the signature index) to litesvm; its parts read each other's state.
import { getMintDecoder, getTokenDecoder, TOKEN_PROGRAM_ADDRESS } from '@solana-program/token';
import {
  getAddressDecoder,
  getBase58Decoder,
  getCompiledTransactionMessageDecoder,
  getSignatureFromTransaction,
  type Address,
  type CompiledTransactionMessage,
  type Transaction,
} from '@solana/kit';
import { FailedTransactionMetadata, LiteSVM, type TransactionMetadata } from 'litesvm';

// A Solana "cluster" for tests: litesvm executes the transactions for real (signatures, token
// program, blockhash checks, duplicate rejection); this class adds what an RPC node knows and
// litesvm does not: blocks and block heights, commitment levels, blockhash lifetimes, and an index
// of executed transactions by signature and by every account key (so read-only "reference"
// accounts of Solana Pay can be searched), with pre/post token balances.

export type Commitment = 'processed' | 'confirmed' | 'finalized';

export interface RpcTokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number; uiAmountString: string };
}

export interface IndexedTransaction {
  signature: string;
  slot: number;
  blockTime: number;
  signatures: string[];
  message: SupportedMessage;
  /** Static keys, then the addresses loaded from lookup tables (writable, then read-only). */
  accountKeys: string[];
  /** v0: the addresses its lookup tables supplied (RPC `meta.loadedAddresses`). */
  loadedAddresses: { writable: string[]; readonly: string[] };
  /** RPC-shaped error (e.g. `{ InstructionError: [0, { Custom: 1 }] }`) or null. */
  err: unknown;
  fee: number;
  logs: string[];
  computeUnits: number;
  preBalances: number[];
  postBalances: number[];
  preTokenBalances: RpcTokenBalance[];
  postTokenBalances: RpcTokenBalance[];
}

/** Legacy and v0 messages; Kit's v1 format is not on any cluster yet. */
export type SupportedMessage = Exclude<CompiledTransactionMessage, { version: 1 }> & { lifetimeToken: string };

export type ExecuteResult =
  | { landed: true; signature: string; tx: IndexedTransaction }
  /** Rejected before execution (bad blockhash, already processed, bad signature…): not in any block. */
  | { landed: false; signature: string; err: unknown; logs: string[] };

export interface LocalChainOptions {
  /** Base58 32-byte genesis hash the RPC reports; random when omitted. */
  genesisHash?: string;
  /** When true (default) every block is finalized at once; when false, call `finalize()`. */
  autoFinalize?: boolean;
}

/** Blocks a blockhash stays usable for, as on mainnet (lastValidBlockHeight = issued + 150). */
export const BLOCKHASH_LIFETIME = 150;
/** SlotHashes holds the last 512 slots on a real cluster. */
const SLOT_HASHES_KEPT = 512;

/** A fixed, distinct hash per slot (SlotHashes entries; nothing checks their value). */
function slotHash(slot: number): string {
  const bytes = new Uint8Array(32);
  new DataView(bytes.buffer).setUint32(0, slot + 1, true);
  return getBase58Decoder().decode(bytes);
}

/** The addresses of an address lookup table account: a 56-byte header, then 32 bytes each. */
export function lookupTableAddresses(data: Uint8Array): string[] {
  const decoder = getAddressDecoder();
  const out: string[] = [];
  for (let at = 56; at + 32 <= data.length; at += 32) out.push(decoder.decode(data.subarray(at, at + 32)));
  return out;
}
const LAMPORTS_PER_SIGNATURE = 5000;

export class LocalChain {
  readonly svm = new LiteSVM();
  readonly genesisHash: string;
  autoFinalize: boolean;
  /** Block height; one block per landed transaction, slots and heights coincide. */
  height = 1;
  finalizedHeight = 1;
  private blockhashIssuedAt = 1;
  private readonly bySignature = new Map<string, IndexedTransaction>();
  /** address → signatures, oldest first. */
  private readonly byAddress = new Map<string, string[]>();

  constructor(options: LocalChainOptions = {}) {
    this.genesisHash = options.genesisHash ?? getAddressDecoder().decode(crypto.getRandomValues(new Uint8Array(32)));
    this.autoFinalize = options.autoFinalize ?? true;
  }

  latestBlockhash(): { blockhash: string; lastValidBlockHeight: number } {
    return { blockhash: this.svm.latestBlockhash(), lastValidBlockHeight: this.blockhashIssuedAt + BLOCKHASH_LIFETIME };
  }

  blockHeight(commitment: Commitment = 'finalized'): number {
    return commitment === 'finalized' ? this.finalizedHeight : this.height;
  }

  /** The current blockhash dies: the chain moves past its lastValidBlockHeight and litesvm rotates it. */
  expireBlockhash(): void {
    this.svm.expireBlockhash();
    this.height = this.latestBlockhash().lastValidBlockHeight + 1;
    this.blockhashIssuedAt = this.height;
    if (this.autoFinalize) this.finalizedHeight = this.height;
  }

  /**
   * Moves litesvm's clock to `slot` and keeps SlotHashes as a node's: the 512 slots before it,
   * newest first. Slots are block heights here, so the lookup table program sees the same slots
   * the RPC reports (a table is created from a recent slot and deactivates for 512 slots).
   */
  private enterSlot(slot: number): void {
    if (this.svm.getClock().slot === BigInt(slot)) return;
    this.svm.warpToSlot(BigInt(slot));
    const hashes = [];
    for (let s = slot - 1; s >= Math.max(0, slot - SLOT_HASHES_KEPT); s--) hashes.push({ slot: BigInt(s), hash: slotHash(s) });
    this.svm.setSlotHashes(hashes);
  }

  /** The slot the next transaction lands in; tests warp past a table's deactivation with `expireBlockhash`. */
  get currentSlot(): number {
    return this.height;
  }

  /** Every account a transaction names: static keys and, for v0, those its lookup tables supply now. */
  keysOf(tx: Transaction): string[] {
    const message = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
    if (message.version === 1) return [...message.staticAccounts];
    const loaded = this.loadedAddresses(message);
    return [...message.staticAccounts, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
  }

  /**
   * Resolves a v0 message's lookups from the tables' current contents (null for a message without
   * any). A missing or short table is left for litesvm to refuse, as a node would.
   */
  private loadedAddresses(message: SupportedMessage): { writable: string[]; readonly: string[] } | null {
    if (message.version === 'legacy' || !message.addressTableLookups?.length) return null;
    const writable: string[] = [];
    const readonly: string[] = [];
    for (const lookup of message.addressTableLookups) {
      const table = this.svm.getAccount(lookup.lookupTableAddress);
      const addresses = table.exists ? lookupTableAddresses(table.data) : [];
      for (const i of lookup.writableIndexes ?? []) writable.push(addresses[i] ?? `missing:${i}`);
      for (const i of lookup.readonlyIndexes ?? []) readonly.push(addresses[i] ?? `missing:${i}`);
    }
    return { writable, readonly };
  }

  /** Everything up to the current height becomes finalized. */
  finalize(): void {
    this.finalizedHeight = this.height;
  }

  getTransaction(signature: string): IndexedTransaction | undefined {
    return this.bySignature.get(signature);
  }

  commitmentOf(tx: IndexedTransaction): Commitment {
    return tx.slot <= this.finalizedHeight ? 'finalized' : 'confirmed';
  }

  /** Newest first, like getSignaturesForAddress. */
  signaturesFor(address: string): IndexedTransaction[] {
    return (this.byAddress.get(address) ?? []).map((s) => this.bySignature.get(s)!).reverse();
  }

  /** Preflight: would this transaction succeed now? Changes nothing. */
  simulate(tx: Transaction): { ok: true } | { ok: false; err: unknown; logs: string[] } {
    const signature = getSignatureFromTransaction(tx);
    if (this.bySignature.has(signature)) return { ok: false, err: 'AlreadyProcessed', logs: [] };
    this.enterSlot(this.height + 1); // simulated as in the block it would land in
    const result = this.svm.simulateTransaction(tx);
    if (result instanceof FailedTransactionMetadata) return { ok: false, err: rpcError(result), logs: result.meta().logs() };
    return { ok: true };
  }

  /** Executes for real; a transaction that lands (even failed) gets a new block and is indexed. */
  execute(tx: Transaction): ExecuteResult {
    const signature = getSignatureFromTransaction(tx);
    const message = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
    if (message.version === 1) throw new Error('LocalChain does not support v1 transactions');
    // The transaction runs in the next block's slot: litesvm's clock and SlotHashes say so, which
    // the address lookup table program reads (a table's recent slot, when an extension is usable).
    this.enterSlot(this.height + 1);
    const loaded = this.loadedAddresses(message);
    // As an RPC node lists them: static keys, then the writable and the read-only loaded ones.
    const accountKeys: string[] = [...message.staticAccounts, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
    const preBalances = accountKeys.map((k) => this.lamports(k));
    const preTokenBalances = this.tokenBalances(accountKeys);
    const result = this.svm.sendTransaction(tx);
    let meta: TransactionMetadata;
    let err: unknown = null;
    if (result instanceof FailedTransactionMetadata) {
      err = rpcError(result);
      if (!landsWhenFailed(err)) return { landed: false, signature, err, logs: result.meta().logs() };
      meta = result.meta();
    } else {
      meta = result;
    }
    this.height += 1;
    if (this.autoFinalize) this.finalizedHeight = this.height;
    const indexed: IndexedTransaction = {
      signature,
      slot: this.height,
      blockTime: Math.floor(Date.now() / 1000),
      signatures: Object.values(tx.signatures).map((s) => (s ? getBase58Decoder().decode(s) : '1'.repeat(64))),
      message,
      accountKeys,
      loadedAddresses: loaded ?? { writable: [], readonly: [] },
      err,
      fee: LAMPORTS_PER_SIGNATURE * message.header.numSignerAccounts,
      logs: meta.logs(),
      computeUnits: Number(meta.computeUnitsConsumed()),
      preBalances,
      postBalances: accountKeys.map((k) => this.lamports(k)),
      preTokenBalances,
      postTokenBalances: this.tokenBalances(accountKeys),
    };
    this.bySignature.set(signature, indexed);
    for (const key of new Set(accountKeys)) {
      const list = this.byAddress.get(key) ?? [];
      list.push(signature);
      this.byAddress.set(key, list);
    }
    // A real blockhash ages out after 150 blocks; keep litesvm's single valid blockhash in step.
    if (this.height > this.latestBlockhash().lastValidBlockHeight) {
      this.svm.expireBlockhash();
      this.blockhashIssuedAt = this.height;
    }
    return { landed: true, signature, tx: indexed };
  }

  /** Token amount held by a token account (0n when it does not exist). */
  tokenAmount(tokenAccount: Address): bigint {
    const account = this.svm.getAccount(tokenAccount);
    return account.exists ? getTokenDecoder().decode(account.data).amount : 0n;
  }

  private lamports(key: string): number {
    return Number(this.svm.getBalance(key as Address) ?? 0n);
  }

  private tokenBalances(keys: string[]): RpcTokenBalance[] {
    const balances: RpcTokenBalance[] = [];
    keys.forEach((key, accountIndex) => {
      const account = this.svm.getAccount(key as Address);
      if (!account.exists || account.programAddress !== TOKEN_PROGRAM_ADDRESS || account.data.length !== 165) return;
      const token = getTokenDecoder().decode(account.data);
      const mint = this.svm.getAccount(token.mint);
      const decimals = mint.exists ? getMintDecoder().decode(mint.data).decimals : 0;
      const ui = Number(token.amount) / 10 ** decimals;
      balances.push({
        accountIndex,
        mint: token.mint,
        owner: token.owner,
        programId: TOKEN_PROGRAM_ADDRESS,
        uiTokenAmount: { amount: token.amount.toString(), decimals, uiAmount: ui, uiAmountString: String(ui) },
      });
    });
    return balances;
  }
}

const TRANSACTION_ERRORS = [
  'AccountInUse',
  'AccountLoadedTwice',
  'AccountNotFound',
  'ProgramAccountNotFound',
  'InsufficientFundsForFee',
  'InvalidAccountForFee',
  'AlreadyProcessed',
  'BlockhashNotFound',
  'CallChainTooDeep',
  'MissingSignatureForFee',
  'InvalidAccountIndex',
  'SignatureFailure',
  'InvalidProgramForExecution',
  'SanitizeFailure',
  'ClusterMaintenance',
  'AccountBorrowOutstanding',
  'WouldExceedMaxBlockCostLimit',
  'UnsupportedVersion',
  'InvalidWritableAccount',
  'WouldExceedMaxAccountCostLimit',
  'WouldExceedAccountDataBlockLimit',
  'TooManyAccountLocks',
  'AddressLookupTableNotFound',
  'InvalidAddressLookupTableOwner',
  'InvalidAddressLookupTableData',
  'InvalidAddressLookupTableIndex',
  'InvalidRentPayingAccount',
  'WouldExceedMaxVoteCostLimit',
  'WouldExceedAccountDataTotalLimit',
  'MaxLoadedAccountsDataSizeExceeded',
  'ResanitizationNeeded',
  'InvalidLoadedAccountsDataSizeLimit',
  'UnbalancedTransaction',
  'ProgramCacheHitMaxLimit',
  'CommitCancelled',
];

/** litesvm's error objects → the JSON shape an RPC node reports in `meta.err` / `status.err`. */
function rpcError(failed: FailedTransactionMetadata): unknown {
  const e: unknown = failed.err();
  if (typeof e === 'number') return TRANSACTION_ERRORS[e] ?? `TransactionError${e}`;
  const o = e as { index?: number; accountIndex?: number; err?: () => unknown };
  if (typeof o.err === 'function') {
    const inner = o.err() as { code?: number; msg?: string } | number;
    const detail =
      typeof inner === 'number'
        ? `InstructionError${inner}`
        : inner.code !== undefined
          ? { Custom: inner.code }
          : { BorshIoError: inner.msg };
    return { InstructionError: [o.index, detail] };
  }
  if (o.index !== undefined) return { DuplicateInstruction: o.index };
  return { InsufficientFundsForRent: { account_index: o.accountIndex } };
}

/** As on a real cluster: execution failures land (and pay the fee); load/sanitize failures never do. */
function landsWhenFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ('InstructionError' in err || 'InsufficientFundsForRent' in err);
}
