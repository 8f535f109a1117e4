import { generateKeyPairSigner, type Address } from '@solana/kit';
import { buildPayoutTransaction, MAX_TRANSACTION_BYTES, runPayoutStep, newPayoutBatch, type PayoutRequest } from '../../../workers/settlement/payouts.ts';
import { createRpcClient } from '../../../workers/settlement/rpc-client.ts';
import { startRpcServer } from '../../support/solana/rpc-server.ts';
import { ataOf, createTokenAccount, createTokenWorld } from '../../support/solana/token-fixtures.ts';

// How many payout recipients fit in one legacy Solana transaction. Measured, not computed: real
// signed transactions are built with one more recipient until the wire size passes 1232 bytes,
// and the largest batch that fits is then sent through the payout step into litesvm and must pay
// every recipient exactly, or the bench fails.

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
}

interface Shape {
  name: string;
  createAccounts: boolean;
  priorityFeeMicroLamports?: bigint;
}

const SHAPES: Shape[] = [
  { name: 'legacy tx, recipients with token accounts', createAccounts: false },
  { name: 'legacy tx, recipients with token accounts + priority fee', createAccounts: false, priorityFeeMicroLamports: 1_000n },
  { name: 'legacy tx, creating each token account', createAccounts: true },
  { name: 'legacy tx, creating each token account + priority fee', createAccounts: true, priorityFeeMicroLamports: 1_000n },
];

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
      for (;;) {
        const owner = (await generateKeyPairSigner()).address;
        payouts.push({ id: String(payouts.length), recipientOwner: owner, amount: 1_000n + BigInt(payouts.length), createRecipientAta: shape.createAccounts });
        try {
          const tx = await buildPayoutTransaction({ treasury: world.treasury, mint: world.mint, decimals: world.decimals, payouts, blockhash, lastValidBlockHeight, priorityFeeMicroLamports: shape.priorityFeeMicroLamports });
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
      await landOrThrow(shape.name, batch);
      const marginal = (await sizeOf(batch)) - (await sizeOf(batch.slice(0, -1)));
      rows.push({ name: `${shape.name}: recipients`, value: fits.count, unit: 'recipients/tx' });
      rows.push({ name: `${shape.name}: size`, value: fits.bytes, unit: `bytes of ${MAX_TRANSACTION_BYTES}` });
      rows.push({ name: `${shape.name}: per recipient`, value: marginal, unit: 'bytes' });
    }
    return rows;

    async function sizeOf(batch: PayoutRequest[]): Promise<number> {
      const shape = { treasury: world.treasury, mint: world.mint, decimals: world.decimals, blockhash, lastValidBlockHeight };
      return (await buildPayoutTransaction({ ...shape, payouts: batch })).sizeBytes;
    }

    async function landOrThrow(name: string, batch: PayoutRequest[]): Promise<void> {
      let record = newPayoutBatch(name);
      const save = async (next: typeof record) => ((record = next), true);
      const deps = { rpc, treasury: world.treasury, mint: world.mint, decimals: world.decimals, genesisHash: null, save };
      for (let i = 0; i < 3 && record.state !== 'paid'; i++) await runPayoutStep(deps, record, batch);
      for (const p of batch) {
        const got = server.chain.tokenAmount(await ataOf(p.recipientOwner as Address, world.mint));
        if (record.state !== 'paid' || got !== p.amount) throw new Error(`${name}: batch of ${batch.length} did not pay exactly (${record.state})`);
      }
    }
  } finally {
    await server.close();
  }
}
