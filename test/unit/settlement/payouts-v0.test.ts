// Over 300 lines: v0 payouts over one litesvm chain with the treasury's lookup table, each case building on the table the previous one extended.
import { generateKeyPairSigner, type Address } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOKUP_TABLE_MAX_ADDRESSES } from '../../../workers/settlement/lookup-table.ts';
import {
  readTable,
  stepActiveTable,
  stepRetiredTable,
  type LookupTableDeps,
  type LookupTableRecord,
  type TableStepResult,
} from '../../../workers/settlement/lookup-table-step.ts';
import { payoutTableAddresses } from '../../../workers/settlement/payout-step.ts';
import {
  buildPayoutTransaction,
  chooseLookupTable,
  estimatePayoutTxSize,
  newPayoutBatch,
  planPayoutBatches,
  runPayoutStep,
  type PayoutRequest,
  type PayoutStepDeps,
} from '../../../workers/settlement/payouts.ts';
import { createRpcClient, type SolanaRpc } from '../../../workers/settlement/rpc-client.ts';
import { startRpcServer, type LocalRpcServer } from '../../support/solana/rpc-server.ts';
import { ataOf, createTokenAccount, createTokenWorld, type TokenWorld } from '../../support/solana/token-fixtures.ts';

// v0 payouts with the treasury's address lookup table, through the real step functions, over
// JSON-RPC, into litesvm (whose address-lookup-table program is Agave's). "Paid once" is checked
// on every recipient's token balance and on the transactions that touched its token account.

let server: LocalRpcServer;
let rpc: SolanaRpc;
let world: TokenWorld;

beforeAll(async () => {
  server = await startRpcServer();
  rpc = createRpcClient({ url: server.url, timeoutMs: 2_000 });
  world = await createTokenWorld(server.chain);
});
afterAll(() => server.close());

/** The D1 row of a lookup table, kept in memory with the same compare-and-swap the Worker does in SQL. */
function tableRows() {
  const rows = new Map<string, LookupTableRecord>();
  const deps: LookupTableDeps = {
    rpc: undefined as unknown as SolanaRpc,
    treasury: undefined as never,
    genesisHash: null,
    save: async (next, expected) => {
      const row = rows.get(next.id);
      if (!row || row.version !== expected) return false;
      rows.set(next.id, next);
      return true;
    },
    insert: async (record) => {
      if ([...rows.values()].some((r) => r.status === 'active')) return false;
      rows.set(record.id, record);
      return true;
    },
  };
  const active = () => [...rows.values()].find((r) => r.status === 'active') ?? null;
  return { rows, active, deps: () => ({ ...deps, rpc, treasury: world.treasury, genesisHash: server.chain.genesisHash }) };
}

function batchRow(id: string) {
  const row = { current: newPayoutBatch(id) };
  const save: PayoutStepDeps['save'] = async (next, expected) => {
    if (row.current.attempt !== expected.attempt || row.current.state !== expected.state) return false;
    row.current = next;
    return true;
  };
  return { row, save };
}

async function recipients(n: number): Promise<PayoutRequest[]> {
  const out: PayoutRequest[] = [];
  for (let i = 0; i < n; i++) {
    const owner = (await generateKeyPairSigner()).address;
    await createTokenAccount(server.chain, world.mintAuthority, owner, world.mint);
    out.push({ id: `v0-${i}`, recipientOwner: owner, amount: 2_000_000n + BigInt(i) * 13n, createRecipientAta: false });
  }
  return out;
}

async function balances(payouts: PayoutRequest[]): Promise<bigint[]> {
  return Promise.all(payouts.map(async (p) => server.chain.tokenAmount(await ataOf(p.recipientOwner as Address, world.mint))));
}

/** Treasury transactions that touched each recipient's token account (static or looked-up key). */
async function paymentsTo(payouts: PayoutRequest[]): Promise<string[][]> {
  return Promise.all(
    payouts.map(async (p) =>
      server.chain
        .signaturesFor(await ataOf(p.recipientOwner as Address, world.mint))
        .filter((t) => t.accountKeys[0] === world.treasury.address && t.err === null)
        .map((t) => t.signature),
    ),
  );
}

/** Table steps until it holds `needed` (ready), as successive cron runs would. */
async function tableUntilReady(t: ReturnType<typeof tableRows>, needed: string[], maxSteps = 8): Promise<TableStepResult[]> {
  const steps: TableStepResult[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const step = await stepActiveTable(t.deps(), t.active(), needed);
    steps.push(step);
    if (step.outcome === 'ready') return steps;
  }
  throw new Error(`table not ready: ${steps.map((s) => s.outcome).join(', ')}`);
}

describe('v0 payout capacity', () => {
  it('the size estimate for a v0 transaction is the signed size (with and without a priority fee)', async () => {
    const payouts = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => ({ id: String(i), recipientOwner: (await generateKeyPairSigner()).address, amount: 5n })),
    );
    const table = {
      address: (await generateKeyPairSigner()).address,
      addresses: await payoutTableAddresses(world.treasury.address, world.mint, payouts),
    };
    const { blockhash, lastValidBlockHeight } = server.chain.latestBlockhash();
    for (const n of [1, 2, 25, 40]) {
      for (const priority of [undefined, 1_000n]) {
        const batch = payouts.slice(0, n);
        const tx = await buildPayoutTransaction({
          treasury: world.treasury,
          mint: world.mint,
          decimals: world.decimals,
          payouts: batch,
          blockhash,
          lastValidBlockHeight,
          lookupTable: table,
          priorityFeeMicroLamports: priority,
        });
        expect(tx.sizeBytes).toBe(estimatePayoutTxSize(batch, { lookupTable: true, priorityFee: priority !== undefined }));
        expect(tx.lookupTable).toBe(table.address);
      }
    }
  });

  it('chooses the table only when it saves payout transactions: legacy for a batch that fits one', async () => {
    const make = async (n: number) =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => ({ id: String(i), recipientOwner: (await generateKeyPairSigner()).address, amount: 5n })),
      );
    expect(chooseLookupTable(await make(1), 20, 64)).toEqual({ legacyTransactions: 1, v0Transactions: 1, use: false });
    expect(chooseLookupTable(await make(20), 20, 64).use).toBe(false);
    expect(chooseLookupTable(await make(21), 20, 64)).toEqual({ legacyTransactions: 2, v0Transactions: 1, use: true });
    const many = await make(60);
    const plan = planPayoutBatches(many, 64, { lookupTable: true });
    expect(plan.batches[0]!.length).toBeGreaterThanOrEqual(52);
    // A cap at the legacy size makes the table useless: kept legacy.
    expect(chooseLookupTable(many, 20, 20).use).toBe(false);
  });
});

describe('the treasury lookup table on chain', () => {
  it('pays 56 recipients in one v0 transaction, each exactly once, after creating and extending the table', async () => {
    const t = tableRows();
    const payouts = await recipients(56);
    const [batch, ...rest] = planPayoutBatches(payouts, 64, { lookupTable: true }).batches;
    expect(rest).toEqual([]);
    expect(batch!.length).toBeGreaterThanOrEqual(52);
    const needed = await payoutTableAddresses(world.treasury.address, world.mint, batch!);

    const { row, save } = batchRow('v0-56');
    const d = (extra: Partial<PayoutStepDeps> = {}): PayoutStepDeps => ({
      rpc,
      treasury: world.treasury,
      mint: world.mint,
      decimals: world.decimals,
      genesisHash: server.chain.genesisHash,
      save,
      useLookupTable: true,
      ...extra,
    });
    // Before the table holds the batch, the batch waits instead of signing something that does not fit.
    expect((await runPayoutStep(d({ lookupTable: null }), row.current, batch!)).action).toEqual({
      kind: 'wait',
      reason: 'lookup_table_not_ready',
    });
    expect(row.current.state).toBe('queued');

    const steps = await tableUntilReady(t, needed);
    // create (+28 addresses), extend (the other 30), settle: ready.
    expect(steps.map((s) => s.outcome)).toEqual(['creating', 'extending', 'ready']);
    const table = steps.at(-1)!.table!;
    expect(table.addresses).toEqual(needed);
    expect((await readTable(rpc, table.address))?.authority).toBe(world.treasury.address);

    for (let i = 0; i < 4 && row.current.state !== 'paid'; i++) await runPayoutStep(d({ lookupTable: table }), row.current, batch!);
    expect(row.current).toMatchObject({ state: 'paid', attempt: 1, lookupTable: table.address });
    const tx = server.chain.getTransaction(row.current.signature!)!;
    expect(tx.message.version).toBe(0);
    expect(tx.loadedAddresses.writable).toHaveLength(batch!.length + 1); // each recipient's account and the treasury's
    expect(await balances(batch!)).toEqual(batch!.map((p) => p.amount));
    expect(await paymentsTo(batch!)).toEqual(batch!.map(() => [row.current.signature]));
  });

  it('a crash between extension and use: the next run settles the extension, never extends twice, then pays once', async () => {
    const t = tableRows();
    const first = await recipients(3);
    await tableUntilReady(t, await payoutTableAddresses(world.treasury.address, world.mint, first));
    const created = t.active()!;
    const before = (await readTable(rpc, created.address))!.addresses.length;

    // New recipients: the extension is signed, stored and broadcast, then the run "crashes" (it
    // returns without using the table); the extension has landed but is not finalized yet.
    server.chain.autoFinalize = false;
    try {
      const more = await recipients(30);
      const needed = await payoutTableAddresses(world.treasury.address, world.mint, more);
      const extension = await stepActiveTable(t.deps(), t.active(), needed);
      expect(extension.outcome).toBe('extending');
      expect(t.active()!.pending?.kind).toBe('extend');

      // The next runs, from the stored row alone: the batch cannot be signed while the extension
      // is not final, and the table is not extended again meanwhile.
      const { row, save } = batchRow('v0-crash');
      const d: PayoutStepDeps = {
        rpc,
        treasury: world.treasury,
        mint: world.mint,
        decimals: world.decimals,
        genesisHash: server.chain.genesisHash,
        save,
        useLookupTable: true,
      };
      for (let run = 0; run < 2; run++) {
        const step = await stepActiveTable(t.deps(), t.active(), needed);
        expect(step).toMatchObject({ outcome: 'waiting', table: null });
        expect((await runPayoutStep({ ...d, lookupTable: step.table }, row.current, more)).action).toEqual({
          kind: 'wait',
          reason: 'lookup_table_not_ready',
        });
      }
      server.chain.finalize();
      const ready = await stepActiveTable(t.deps(), t.active(), needed);
      expect(ready.outcome).toBe('ready');
      const onChain = (await readTable(rpc, created.address))!.addresses;
      expect(onChain).toHaveLength(before + 30); // each new address once
      expect(new Set(onChain).size).toBe(onChain.length);

      await runPayoutStep({ ...d, lookupTable: ready.table }, row.current, more);
      server.chain.finalize();
      await runPayoutStep({ ...d, lookupTable: ready.table }, row.current, more);
      expect(row.current.state).toBe('paid');
      expect(await balances(more)).toEqual(more.map((p) => p.amount));
      expect(await paymentsTo(more)).toEqual(more.map(() => [row.current.signature]));
    } finally {
      server.chain.autoFinalize = true;
      server.chain.finalize();
    }
  });

  it('an extension that expired without landing is settled as dead and the missing addresses are extended again', async () => {
    const t = tableRows();
    const first = await recipients(2);
    await tableUntilReady(t, await payoutTableAddresses(world.treasury.address, world.mint, first));
    const more = await recipients(3);
    const needed = await payoutTableAddresses(world.treasury.address, world.mint, [...first, ...more]);
    server.dropNextSend(t.active()!.address);
    expect((await stepActiveTable(t.deps(), t.active(), needed)).outcome).toBe('extending');
    const dead = t.active()!.pending!.transactions[0]!.signature;
    server.chain.expireBlockhash();
    // Dead (past its lifetime, unknown at the finalized slot): settled; the addresses are still missing.
    const again = await stepActiveTable(t.deps(), t.active(), needed);
    expect(again.outcome).toBe('extending');
    expect(t.active()!.pending!.transactions[0]!.signature).not.toBe(dead);
    const steps = await tableUntilReady(t, needed);
    expect(steps.at(-1)!.table!.addresses).toEqual(needed);
    expect(server.chain.getTransaction(dead)).toBeUndefined();
  });

  it('a creation that never landed closes the row; the next run creates a new table', async () => {
    const t = tableRows();
    const payouts = await recipients(2);
    const needed = await payoutTableAddresses(world.treasury.address, world.mint, payouts);
    server.dropNextSend(world.treasury.address);
    expect((await stepActiveTable(t.deps(), null, needed)).outcome).toBe('creating');
    const lost = t.active()!;
    server.chain.expireBlockhash();
    const next = await stepActiveTable(t.deps(), t.active(), needed);
    expect(next.outcome).toBe('creating');
    expect(t.rows.get(lost.id)!.status).toBe('closed');
    expect(t.active()!.address).not.toBe(lost.address);
    expect((await tableUntilReady(t, needed)).at(-1)!.table!.addresses).toEqual(needed);
  });

  it('two overlapping runs cannot both create a table', async () => {
    const t = tableRows();
    const needed = await payoutTableAddresses(world.treasury.address, world.mint, await recipients(1));
    const [a, b] = await Promise.all([stepActiveTable(t.deps(), null, needed), stepActiveTable(t.deps(), null, needed)]);
    expect([a.outcome, b.outcome].sort()).toEqual(['conflict', 'creating']);
    expect([...t.rows.values()]).toHaveLength(1);
  });

  it('a full table is retired, then deactivated once unused and closed after the cooldown, its rent back to the treasury', async () => {
    const t = tableRows();
    const filler = await Promise.all(
      Array.from({ length: LOOKUP_TABLE_MAX_ADDRESSES - 2 }, async () => (await generateKeyPairSigner()).address),
    );
    const needed = [world.mint, await ataOf(world.treasury.address, world.mint), ...filler];
    await tableUntilReady(t, needed, 20);
    const full = t.active()!;
    const lamportsBefore = server.chain.svm.getBalance(world.treasury.address)!;

    const extra = (await generateKeyPairSigner()).address;
    expect((await stepActiveTable(t.deps(), t.active(), [...needed, extra])).outcome).toBe('retired');
    expect(t.active()).toBeNull();
    expect((await stepRetiredTable(t.deps(), t.rows.get(full.id)!, true)).outcome).toBe('in_use');
    expect((await stepRetiredTable(t.deps(), t.rows.get(full.id)!, false)).outcome).toBe('deactivating');
    expect((await stepRetiredTable(t.deps(), t.rows.get(full.id)!, false)).outcome).toBe('cooling_down');
    for (let i = 0; i < 4; i++) server.chain.expireBlockhash(); // > 512 slots
    expect((await stepRetiredTable(t.deps(), t.rows.get(full.id)!, false)).outcome).toBe('closing');
    expect((await stepRetiredTable(t.deps(), t.rows.get(full.id)!, false)).outcome).toBe('closed');
    expect(server.chain.svm.getAccount(full.address as Address).exists).toBe(false);
    // The table's rent (~0.0191 SOL for 256 addresses) came back, less a few signature fees.
    expect(server.chain.svm.getBalance(world.treasury.address)! - lamportsBefore).toBeGreaterThan(15_000_000n);
  });
});
