import { generateKeyPairSigner, getBase58Decoder, type Address } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  markMissingRecipientAtas,
  newPayoutBatch,
  planPayoutBatches,
  runPayoutStep,
  type PayoutBatchRecord,
  type PayoutRequest,
  type PayoutStepDeps,
  type PayoutStepResult,
} from '../../../workers/settlement/payouts.ts';
import { createRpcClient, type SolanaRpc } from '../../../workers/settlement/rpc-client.ts';
import { startRpcServer, type LocalRpcServer } from '../../support/solana/rpc-server.ts';
import { ataOf, createTokenAccount, createTokenWorld, type TokenWorld } from '../../support/solana/token-fixtures.ts';

// Payout batches sent through the real step function, over JSON-RPC, into litesvm. "Paid once" is
// checked where it matters: every recipient's token balance on chain.

let server: LocalRpcServer;
let rpc: SolanaRpc;
let world: TokenWorld;

beforeAll(async () => {
  server = await startRpcServer();
  rpc = createRpcClient({ url: server.url, timeoutMs: 1_000 });
  world = await createTokenWorld(server.chain);
});
afterAll(() => server.close());

/** The ledger's row, with the compare-and-swap `save` the ledger must implement in D1. */
function memoryRow(id: string) {
  const row = { current: newPayoutBatch(id), saves: [] as PayoutBatchRecord[] };
  const save: PayoutStepDeps['save'] = async (next, expected) => {
    if (row.current.attempt !== expected.attempt || row.current.state !== expected.state) return false;
    row.current = next;
    row.saves.push(next);
    return true;
  };
  return { row, save };
}

function deps(save: PayoutStepDeps['save'], extra: Partial<PayoutStepDeps> = {}): PayoutStepDeps {
  return {
    rpc,
    treasury: world.treasury,
    mint: world.mint,
    decimals: world.decimals,
    genesisHash: server.chain.genesisHash,
    save,
    ...extra,
  };
}

async function recipients(n: number, withTokenAccount: boolean): Promise<PayoutRequest[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const owner = (await generateKeyPairSigner()).address;
      if (withTokenAccount) await createTokenAccount(server.chain, world.mintAuthority, owner, world.mint);
      return { id: `payout-${i}`, recipientOwner: owner, amount: 1_000_000n + BigInt(i) * 7n };
    }),
  );
}

async function balances(payouts: PayoutRequest[]): Promise<bigint[]> {
  return Promise.all(payouts.map(async (p) => server.chain.tokenAmount(await ataOf(p.recipientOwner as Address, world.mint))));
}

/** Runs steps until the batch is paid or failed, as successive cron ticks would. */
async function driveToEnd(d: PayoutStepDeps, row: { current: PayoutBatchRecord }, payouts: PayoutRequest[], maxSteps = 10) {
  const steps: PayoutStepResult[] = [];
  while (row.current.state !== 'paid' && row.current.state !== 'failed' && steps.length < maxSteps) {
    steps.push(await runPayoutStep(d, row.current, payouts));
  }
  return steps;
}

describe('payout batches on chain', () => {
  it('pays 20 recipients with existing token accounts in one legacy transaction, exactly', async () => {
    const payouts = await recipients(20, true);
    const [batch, ...rest] = planPayoutBatches(await markMissingRecipientAtas(rpc, world.mint, payouts), 100).batches;
    expect(rest).toEqual([]);
    expect(batch).toHaveLength(20);

    const { row, save } = memoryRow('batch-20');
    const steps = await driveToEnd(deps(save), row, batch!);
    expect(steps.map((s) => s.action.kind)).toEqual(['sign', 'mark_paid']);
    expect(row.saves.map((r) => r.state)).toEqual(['signed', 'sent', 'paid']);
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
    expect(server.chain.getTransaction(row.current.signature!)?.accountKeys.length).toBe(24);
  });

  it('creates missing token accounts in the same transaction: 10 recipients fit', async () => {
    const payouts = await markMissingRecipientAtas(rpc, world.mint, await recipients(10, false));
    expect(payouts.every((p) => p.createRecipientAta)).toBe(true);
    const { batches } = planPayoutBatches(payouts, 100);
    expect(batches.map((b) => b.length)).toEqual([10]);

    const { row, save } = memoryRow('batch-create');
    await driveToEnd(deps(save), row, batches[0]!);
    expect(row.current.state).toBe('paid');
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
  });

  it('lands with a priority fee too', async () => {
    const payouts = await recipients(19, true);
    expect(planPayoutBatches(payouts, 100, { priorityFee: true }).batches).toHaveLength(1);
    const { row, save } = memoryRow('batch-fee');
    await driveToEnd(deps(save, { priorityFeeMicroLamports: 1_000n }), row, payouts);
    expect(row.current.state).toBe('paid');
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
  });
});

describe('payout retries never pay twice', () => {
  it('a send that times out after broadcast: waits for finality, re-broadcasts harmlessly, is paid once', async () => {
    server.chain.autoFinalize = false;
    try {
      const payouts = await recipients(5, true);
      const { row, save } = memoryRow('batch-timeout');
      const d = deps(save);

      server.timeoutNextSend();
      const first = await runPayoutStep(d, row.current, payouts);
      expect(first.action.kind).toBe('sign');
      expect(first.sendError?.kind).toBe('timeout');
      // The signature was stored before the send; the row stays `signed` because the send is unconfirmed.
      expect(row.current).toMatchObject({ state: 'signed', attempt: 1 });
      const signature = row.current.signature!;

      // It did land; not final yet, so the step waits, and re-sending the same bytes changes nothing.
      expect((await runPayoutStep(d, row.current, payouts)).action).toEqual({ kind: 'wait', reason: 'landed_not_finalized' });
      await expect(rpc.sendTransaction(row.current.wireTransaction!)).rejects.toMatchObject({ kind: 'rpc', rpcCode: -32002 });
      expect(await rpc.sendTransaction(row.current.wireTransaction!, { skipPreflight: true })).toBe(signature);

      server.chain.finalize();
      expect((await runPayoutStep(d, row.current, payouts)).action.kind).toBe('mark_paid');
      expect(row.current).toMatchObject({ state: 'paid', attempt: 1, signature });
      expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
      // Each recipient's token account saw exactly one treasury transaction: this one.
      for (const p of payouts) {
        const fromTreasury = server.chain
          .signaturesFor(await ataOf(p.recipientOwner as Address, world.mint))
          .filter((t) => t.accountKeys[0] === world.treasury.address);
        expect(fromTreasury.map((t) => t.signature)).toEqual([signature]);
      }
    } finally {
      server.chain.autoFinalize = true;
      server.chain.finalize();
    }
  });

  it('a broadcast that never arrived is re-sent unchanged while the blockhash lives', async () => {
    const payouts = await recipients(3, true);
    const { row, save } = memoryRow('batch-dropped');
    server.dropNextSend();
    await runPayoutStep(deps(save), row.current, payouts);
    expect(row.current.state).toBe('sent');
    const signature = row.current.signature;

    const steps = await driveToEnd(deps(save), row, payouts);
    expect(steps.map((s) => s.action.kind)).toEqual(['broadcast', 'mark_paid']);
    expect(row.current).toMatchObject({ state: 'paid', attempt: 1, signature });
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
  });

  it('a transaction that expired without landing is re-signed, paid once, and the old one can never land', async () => {
    const payouts = await recipients(4, true);
    const { row, save } = memoryRow('batch-expired');
    server.dropNextSend();
    await runPayoutStep(deps(save), row.current, payouts);
    const old = row.current;
    server.chain.expireBlockhash();

    const resign = await runPayoutStep(deps(save), row.current, payouts);
    expect(resign.action).toEqual({ kind: 're_sign', reason: 'expired_not_landed' });
    expect(row.current).toMatchObject({ state: 'sent', attempt: 2 });
    expect(row.current.signature).not.toBe(old.signature);
    expect(row.current.lastValidBlockHeight).toBeGreaterThan(old.lastValidBlockHeight!);

    await driveToEnd(deps(save), row, payouts);
    expect(row.current.state).toBe('paid');
    // The first transaction, broadcast late, is refused: its blockhash is gone.
    await rpc.sendTransaction(old.wireTransaction!, { skipPreflight: true });
    expect(server.chain.getTransaction(old.signature!)).toBeUndefined();
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
  });

  it('a crash between recording and broadcasting: the next tick broadcasts the recorded transaction', async () => {
    const payouts = await recipients(2, true);
    const { row, save } = memoryRow('batch-crash');
    // Simulate the crash: the send never happens because the RPC refuses it outright.
    server.failNext('sendTransaction');
    const first = await runPayoutStep(deps(save), row.current, payouts);
    expect(first.sendError?.kind).toBe('http');
    expect(row.current.state).toBe('signed');

    const steps = await driveToEnd(deps(save), row, payouts);
    expect(steps.map((s) => s.action.kind)).toEqual(['broadcast', 'mark_paid']);
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
  });

  it('two overlapping cron runs cannot both re-sign an expired batch', async () => {
    const payouts = await recipients(3, true);
    const { row, save } = memoryRow('batch-race');
    server.dropNextSend();
    await runPayoutStep(deps(save), row.current, payouts);
    server.chain.expireBlockhash();

    const snapshot = row.current;
    const [a, b] = await Promise.all([runPayoutStep(deps(save), snapshot, payouts), runPayoutStep(deps(save), snapshot, payouts)]);
    expect([a.conflict ?? false, b.conflict ?? false].sort()).toEqual([false, true]);
    await driveToEnd(deps(save), row, payouts);
    expect(row.current).toMatchObject({ state: 'paid', attempt: 2 });
    expect(await balances(payouts)).toEqual(payouts.map((p) => p.amount));
  });

  it('fails without re-signing the same transfers once a transaction refused in simulation (the treasury cannot pay) is dead, having moved nothing', async () => {
    const payouts = [{ id: 'too-much', recipientOwner: (await generateKeyPairSigner()).address, amount: 10n ** 15n }];
    const { row, save } = memoryRow('batch-broke');
    const d = deps(save, { policy: { maxAttempts: 2 } });
    for (let tick = 0; tick < 6 && row.current.state !== 'failed'; tick++) {
      const step = await runPayoutStep(d, row.current, payouts);
      if (step.sendError) expect(step.sendError.rpcCode).toBe(-32002); // preflight refuses it
      server.chain.expireBlockhash();
    }
    expect(row.current).toMatchObject({ state: 'failed', failureReason: 'rejected_in_preflight', attempt: 1 });
    expect(await balances(payouts)).toEqual([0n]);
  });

  it('the wire bytes stored are exactly what was signed (re-broadcast keeps the signature)', async () => {
    const payouts = await recipients(1, true);
    const { row, save } = memoryRow('batch-bytes');
    await runPayoutStep(deps(save), row.current, payouts);
    const tx = server.chain.getTransaction(row.current.signature!);
    expect(tx?.signatures[0]).toBe(row.current.signature);
    const wire = Buffer.from(row.current.wireTransaction!, 'base64');
    expect(wire.length).toBeLessThanOrEqual(1232);
    // The first signature in the wire bytes is the recorded signature.
    expect(getBase58Decoder().decode(wire.subarray(1, 65))).toBe(row.current.signature);
  });
});
