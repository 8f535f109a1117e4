import { generateKeyPairSigner, type Address } from '@solana/kit';
import { stepActiveTable, type LookupTableRecord } from '../../../workers/settlement/lookup-table-step.ts';
import {
  buildPayoutTransaction,
  MAX_TRANSACTION_BYTES,
  payoutTableAddresses,
  runPayoutStep,
  newPayoutBatch,
  type PayoutLookupTable,
  type PayoutRequest,
} from '../../../workers/settlement/payouts.ts';
import { createRpcClient } from '../../../workers/settlement/rpc-client.ts';
import { startRpcServer } from '../../support/solana/rpc-server.ts';
import { ataOf, createTokenAccount, createTokenWorld } from '../../support/solana/token-fixtures.ts';

// How many payout recipients fit in one Solana transaction, legacy and v0 with the treasury's
// address lookup table. Measured, not computed: real signed transactions are built with one more
// recipient until the wire size passes 1232 bytes, and the largest batch that fits is then sent
// through the payout step into litesvm and must pay every recipient exactly, or the bench fails.
// For v0 the table is made by the settlement's own table step (create, extend, all on litesvm's
// lookup-table program) and the rows say what that cost: transactions and the rent deposit.

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
}

interface Shape {
  name: string;
  createAccounts: boolean;
  priorityFeeMicroLamports?: bigint;
  lookupTable?: boolean;
}

const SHAPES: Shape[] = [
  { name: 'legacy tx, recipients with token accounts', createAccounts: false },
  { name: 'legacy tx, recipients with token accounts + priority fee', createAccounts: false, priorityFeeMicroLamports: 1_000n },
  { name: 'legacy tx, creating each token account', createAccounts: true },
  { name: 'legacy tx, creating each token account + priority fee', createAccounts: true, priorityFeeMicroLamports: 1_000n },
  { name: 'v0 tx + lookup table, recipients with token accounts', createAccounts: false, lookupTable: true },
  {
    name: 'v0 tx + lookup table, recipients with token accounts + priority fee',
    createAccounts: false,
    lookupTable: true,
    priorityFeeMicroLamports: 1_000n,
  },
];

/** Recipients tried per v0 shape: more than fit, so the loop stops at the size limit. */
const V0_CANDIDATES = 80;

export async function measurePayoutCapacity(): Promise<BenchRow[]> {
  const server = await startRpcServer();
  try {
    const rpc = createRpcClient({ url: server.url });
    const world = await createTokenWorld(server.chain);
    const { blockhash, lastValidBlockHeight } = server.chain.latestBlockhash();
    const rows: BenchRow[] = [];
    for (const shape of SHAPES) {
      const payouts: PayoutRequest[] = [];
      let fits: { count: number; bytes: number } = { count: 0, bytes: 0 };
      // v0: a table holding every candidate's token account (a stand-in address while sizing; the
      // real table is made below for the batch that fits).
      const candidates = shape.lookupTable
        ? await Promise.all(Array.from({ length: V0_CANDIDATES }, async () => (await generateKeyPairSigner()).address))
        : [];
      const sizingTable: PayoutLookupTable | undefined = shape.lookupTable
        ? {
            address: (await generateKeyPairSigner()).address,
            addresses: await payoutTableAddresses(
              world.treasury.address,
              world.mint,
              candidates.map((o, i) => ({ id: String(i), recipientOwner: o, amount: 1n })),
            ),
          }
        : undefined;
      for (;;) {
        const owner = shape.lookupTable ? candidates[payouts.length] : (await generateKeyPairSigner()).address;
        if (!owner) throw new Error(`${shape.name}: more than ${V0_CANDIDATES} fit; raise V0_CANDIDATES`);
        payouts.push({
          id: String(payouts.length),
          recipientOwner: owner,
          amount: 1_000n + BigInt(payouts.length),
          createRecipientAta: shape.createAccounts,
        });
        try {
          const tx = await buildPayoutTransaction({
            treasury: world.treasury,
            mint: world.mint,
            decimals: world.decimals,
            payouts,
            blockhash,
            lastValidBlockHeight,
            priorityFeeMicroLamports: shape.priorityFeeMicroLamports,
            lookupTable: sizingTable,
          });
          fits = { count: payouts.length, bytes: tx.sizeBytes };
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          break; // one recipient too many: over MAX_TRANSACTION_BYTES
        }
      }
      const batch = payouts.slice(0, fits.count);
      if (!shape.createAccounts) {
        for (const p of batch) await createTokenAccount(server.chain, world.mintAuthority, p.recipientOwner as Address, world.mint);
      }
      const table = shape.lookupTable ? await makeTable(shape.name, batch) : undefined;
      await landOrThrow(shape.name, batch, shape, table?.table);
      const marginal = (await sizeOf(batch, sizingTable)) - (await sizeOf(batch.slice(0, -1), sizingTable));
      rows.push({ name: `${shape.name}: recipients`, value: fits.count, unit: 'recipients/tx' });
      rows.push({ name: `${shape.name}: size`, value: fits.bytes, unit: `bytes of ${MAX_TRANSACTION_BYTES}` });
      rows.push({ name: `${shape.name}: per recipient`, value: marginal, unit: 'bytes' });
      if (table) {
        rows.push({ name: `${shape.name}: table transactions before use`, value: table.transactions, unit: 'create + extend txs' });
        rows.push({ name: `${shape.name}: table rent deposit`, value: table.rentLamports, unit: 'lamports (back on close)' });
      }
    }
    return rows;

    async function sizeOf(batch: PayoutRequest[], lookupTable?: PayoutLookupTable): Promise<number> {
      const shape = { treasury: world.treasury, mint: world.mint, decimals: world.decimals, blockhash, lastValidBlockHeight, lookupTable };
      return (await buildPayoutTransaction({ ...shape, payouts: batch })).sizeBytes;
    }

    /** The settlement's table step, run to `ready` for this batch, as successive cron runs would. */
    async function makeTable(
      name: string,
      batch: PayoutRequest[],
    ): Promise<{ table: PayoutLookupTable; transactions: number; rentLamports: number }> {
      let row: LookupTableRecord | null = null;
      let transactions = 0;
      const deps = {
        rpc,
        treasury: world.treasury,
        genesisHash: null,
        save: async (next: LookupTableRecord) => {
          row = next;
          return true;
        },
        insert: async (next: LookupTableRecord) => {
          row = next;
          return true;
        },
      };
      const needed = await payoutTableAddresses(world.treasury.address, world.mint, batch);
      for (let i = 0; i < 8; i++) {
        const step = await stepActiveTable(deps, row, needed);
        if (step.outcome === 'creating' || step.outcome === 'extending') transactions += step.record!.pending!.transactions.length;
        if (step.outcome === 'ready' && step.table) {
          const account = server.chain.svm.getAccount(step.table.address as Address);
          return { table: step.table, transactions, rentLamports: account.exists ? Number(account.lamports) : 0 };
        }
      }
      throw new Error(`${name}: the lookup table never became ready`);
    }

    async function landOrThrow(name: string, batch: PayoutRequest[], shape: Shape, lookupTable?: PayoutLookupTable): Promise<void> {
      let record = newPayoutBatch(name);
      const save = async (next: typeof record) => {
        record = next;
        return true;
      };
      const deps = {
        rpc,
        treasury: world.treasury,
        mint: world.mint,
        decimals: world.decimals,
        genesisHash: null,
        save,
        priorityFeeMicroLamports: shape.priorityFeeMicroLamports,
        useLookupTable: lookupTable !== undefined,
        lookupTable,
      };
      for (let i = 0; i < 3 && record.state !== 'paid'; i++) await runPayoutStep(deps, record, batch);
      if (lookupTable && server.chain.getTransaction(record.signature ?? '')?.message.version !== 0)
        throw new Error(`${name}: not a v0 transaction`);
      for (const p of batch) {
        const got = server.chain.tokenAmount(await ataOf(p.recipientOwner as Address, world.mint));
        if (record.state !== 'paid' || got !== p.amount)
          throw new Error(`${name}: batch of ${batch.length} did not pay exactly (${record.state})`);
      }
    }
  } finally {
    await server.close();
  }
}
