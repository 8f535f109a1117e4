import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from '@solana-program/token';
import {
  address,
  appendTransactionMessageInstructions,
  compressTransactionMessageUsingAddressLookupTables,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Blockhash,
  type Instruction,
  type TransactionSigner,
} from '@solana/kit';
import { MAX_TRANSACTION_BYTES, type PayoutRequest } from './payout-plan.ts';

export interface PayoutTransactionInput {
  /** The treasury: fee payer and owner of the source token account. */
  treasury: TransactionSigner;
  mint: Address;
  decimals: number;
  payouts: readonly PayoutRequest[];
  /** From getLatestBlockhash; the pair fixes the transaction's lifetime. */
  blockhash: string;
  lastValidBlockHeight: number;
  /** Micro-lamports per compute unit; when set, a compute-unit limit sized for the batch is added too. */
  priorityFeeMicroLamports?: bigint;
  /**
   * Build a v0 transaction that names the accounts found in this table by index (its finalized
   * contents: an address appended later than the slot the transaction lands in is not usable).
   * Without it the transaction is legacy.
   */
  lookupTable?: PayoutLookupTable;
}

export interface PayoutLookupTable {
  address: string;
  addresses: readonly string[];
}

export interface SignedPayoutTransaction {
  /** Exactly these bytes are (re)broadcast until the blockhash expires. */
  wireBase64: string;
  /** The transaction id: the treasury's signature, known before anything is sent. */
  signature: string;
  blockhash: string;
  lastValidBlockHeight: number;
  sizeBytes: number;
  /** The table a v0 transaction looks its accounts up in; null for legacy. */
  lookupTable: string | null;
}

const COMPUTE_BUDGET_PROGRAM = address('ComputeBudget111111111111111111111111111111');
// Generous per-instruction budgets for the classic token program (about 6k CU per transferChecked,
// about 25k per idempotent account creation): running out would fail the whole batch on chain.
const CU_PER_TRANSFER = 10_000;
const CU_PER_ACCOUNT_CREATION = 40_000;

/** The unsigned transaction message; the bench measures it, `buildPayoutTransaction` signs it. */
export async function payoutTransactionMessage(input: PayoutTransactionInput) {
  const { treasury, mint, decimals } = input;
  const source = await ata(treasury.address, mint);
  const instructions: Instruction[] = [];
  const created = new Set<string>();
  for (const payout of input.payouts) {
    const owner = address(payout.recipientOwner);
    const destination = await ata(owner, mint);
    if (payout.createRecipientAta && !created.has(owner)) {
      created.add(owner);
      // Idempotent: succeeds when the account already exists, so a stale "missing" flag is harmless.
      instructions.push(getCreateAssociatedTokenIdempotentInstruction({ payer: treasury, ata: destination, owner, mint }));
    }
    // transferChecked, not transfer: the mint and decimals are verified by the token program.
    instructions.push(getTransferCheckedInstruction({ source, mint, destination, authority: treasury, amount: payout.amount, decimals }));
  }
  if (input.priorityFeeMicroLamports !== undefined) {
    const units = 5_000 + input.payouts.length * CU_PER_TRANSFER + created.size * CU_PER_ACCOUNT_CREATION;
    instructions.unshift(computeUnitLimit(units), computeUnitPrice(input.priorityFeeMicroLamports));
  }
  const table = input.lookupTable;
  if (!table) return treasuryMessage(treasury, instructions, input.blockhash, input.lastValidBlockHeight);
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(treasury, m),
    (m) =>
      setTransactionMessageLifetimeUsingBlockhash(
        { blockhash: input.blockhash as Blockhash, lastValidBlockHeight: BigInt(input.lastValidBlockHeight) },
        m,
      ),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  // Every non-signer, non-program account found in the table becomes a 1-byte index.
  return compressTransactionMessageUsingAddressLookupTables(message, { [address(table.address)]: table.addresses.map((a) => address(a)) });
}

/** A legacy message paid and signed by the treasury: payouts without a table, and the table's own transactions. */
export function treasuryMessage(treasury: TransactionSigner, instructions: Instruction[], blockhash: string, lastValidBlockHeight: number) {
  return pipe(
    createTransactionMessage({ version: 'legacy' }),
    (m) => setTransactionMessageFeePayerSigner(treasury, m),
    (m) =>
      setTransactionMessageLifetimeUsingBlockhash(
        { blockhash: blockhash as Blockhash, lastValidBlockHeight: BigInt(lastValidBlockHeight) },
        m,
      ),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
}

/** Signs the treasury's lookup-table instructions into one legacy transaction (RangeError when over a packet). */
export async function buildTreasuryTransaction(
  treasury: TransactionSigner,
  instructions: Instruction[],
  blockhash: string,
  lastValidBlockHeight: number,
): Promise<SignedPayoutTransaction> {
  const signed = await signTransactionMessageWithSigners(treasuryMessage(treasury, instructions, blockhash, lastValidBlockHeight));
  return finish(signed, blockhash, lastValidBlockHeight, null);
}

/** Builds and signs one payout batch. Throws RangeError when it would not fit in a packet. */
export async function buildPayoutTransaction(input: PayoutTransactionInput): Promise<SignedPayoutTransaction> {
  if (input.payouts.length === 0) throw new RangeError('a payout batch needs at least one payout');
  const signed = await signTransactionMessageWithSigners(await payoutTransactionMessage(input));
  return finish(signed, input.blockhash, input.lastValidBlockHeight, input.lookupTable?.address ?? null);
}

function finish(
  signed: Parameters<typeof getBase64EncodedWireTransaction>[0] & Parameters<typeof getSignatureFromTransaction>[0],
  blockhash: string,
  lastValidBlockHeight: number,
  lookupTable: string | null,
): SignedPayoutTransaction {
  const sizeBytes = getTransactionEncoder().getSizeFromValue(signed);
  if (sizeBytes > MAX_TRANSACTION_BYTES) {
    throw new RangeError(`payout transaction is ${sizeBytes} bytes, over ${MAX_TRANSACTION_BYTES}: plan smaller batches`);
  }
  return {
    wireBase64: getBase64EncodedWireTransaction(signed),
    signature: getSignatureFromTransaction(signed),
    blockhash,
    lastValidBlockHeight,
    sizeBytes,
    lookupTable,
  };
}

async function ata(owner: Address, mint: Address): Promise<Address> {
  const [pda] = await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  return pda;
}

// The compute budget program's two instructions, encoded by hand: one discriminator byte and a
// little-endian integer, no accounts (avoids a dependency for 14 bytes of data).
function computeUnitLimit(units: number): Instruction {
  const data = new Uint8Array(5);
  data[0] = 2;
  new DataView(data.buffer).setUint32(1, Math.min(units, 1_400_000), true);
  return { programAddress: COMPUTE_BUDGET_PROGRAM, data };
}

function computeUnitPrice(microLamports: bigint): Instruction {
  const data = new Uint8Array(9);
  data[0] = 3;
  new DataView(data.buffer).setBigUint64(1, microLamports, true);
  return { programAddress: COMPUTE_BUDGET_PROGRAM, data };
}
