import { generateKeyPairSigner, type Address } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTransferRequestUrl,
  checkDeposit,
  depositInstructions,
  isFinalDecision,
  newReferenceKey,
  scanReference,
  type DepositDecision,
} from '../../../workers/settlement/deposits.ts';
import { createRpcClient, type SolanaRpc } from '../../../workers/settlement/rpc-client.ts';
import { WrongClusterError } from '../../../workers/settlement/rpc-error.ts';
import { startRpcServer, type LocalRpcServer } from '../../support/solana/rpc-server.ts';
import {
  createTokenAccount,
  createTokenWorld,
  fundedWallet,
  mintTokens,
  payTokens,
  type TokenWorld,
} from '../../support/solana/token-fixtures.ts';

// Real SPL transfers executed in litesvm, read back over JSON-RPC, judged by checkDeposit.

let server: LocalRpcServer;
let rpc: SolanaRpc;
let world: TokenWorld;

beforeAll(async () => {
  server = await startRpcServer();
  rpc = createRpcClient({ url: server.url, timeoutMs: 2_000 });
  world = await createTokenWorld(server.chain);
});
afterAll(() => server.close());

const expected = (_reference: Address, expectedAmount?: bigint) => ({
  mint: world.mint,
  treasuryTokenAccount: world.treasuryAta,
  decimals: world.decimals,
  expectedAmount,
});

/** A depositor holding 1,000 of our tokens and 1,000 of the look-alike. */
async function depositor() {
  const wallet = await fundedWallet(server.chain);
  await mintTokens(server.chain, world.mintAuthority, world.mint, wallet.address, 1_000_000_000n);
  await mintTokens(server.chain, world.mintAuthority, world.lookAlikeMint, wallet.address, 1_000_000_000n);
  return wallet;
}

async function scan(reference: Address, expectedAmount?: bigint): Promise<DepositDecision[]> {
  const { decisions, complete } = await scanReference(rpc, reference, expected(reference, expectedAmount), {
    genesisHash: server.chain.genesisHash,
  });
  expect(complete).toBe(true);
  return decisions;
}

describe('deposits found by reference', () => {
  it('credits the exact amount of a good deposit, once per signature', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    const paid = await payTokens(server.chain, {
      from: wallet,
      mint: world.mint,
      destination: world.treasuryAta,
      amount: 12_345_678n,
      reference,
    });
    expect(paid.landed).toBe(true);

    const decisions = await scan(reference, 12_000_000n);
    expect(decisions).toEqual([
      expect.objectContaining({
        ok: true,
        signature: paid.signature,
        amount: 12_345_678n,
        payer: wallet.address,
        sourceOwner: wallet.address,
      }),
    ]);
    // Already decided: listed but not fetched or decided again.
    const again = await scanReference(rpc, reference, expected(reference), {
      genesisHash: server.chain.genesisHash,
      skip: new Set([paid.signature]),
    });
    expect(again.decisions).toEqual([]);
    expect(again.newestSignature).toBe(paid.signature);
  });

  it('does not credit a failed transaction', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    // More than the wallet holds: the token program fails it, but it lands (fee paid).
    const paid = await payTokens(server.chain, {
      from: wallet,
      mint: world.mint,
      destination: world.treasuryAta,
      amount: 5_000_000_000n,
      reference,
    });
    expect(paid.landed && paid.tx.err).toBeTruthy();

    const [decision] = await scan(reference);
    expect(decision).toMatchObject({ ok: false, reason: 'failed_tx', signature: paid.signature });
    expect(isFinalDecision(decision!)).toBe(true);
  });

  it('does not credit a look-alike mint, even sent to the treasury wallet', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    // The treasury's token account for the look-alike mint: right owner, wrong mint.
    const lookAlikeAta = await createTokenAccount(server.chain, wallet, world.treasury.address, world.lookAlikeMint);
    const paid = await payTokens(server.chain, {
      from: wallet,
      mint: world.lookAlikeMint,
      destination: lookAlikeAta,
      amount: 50_000_000n,
      reference,
    });
    expect(paid.landed && paid.tx.err).toBe(null);

    const [decision] = await scan(reference);
    expect(decision).toMatchObject({ ok: false, reason: 'wrong_mint' });
  });

  it("does not credit our mint sent to someone else's token account", async () => {
    const wallet = await depositor();
    const stranger = await generateKeyPairSigner();
    const strangerAta = await createTokenAccount(server.chain, wallet, stranger.address, world.mint);
    const reference = newReferenceKey();
    const paid = await payTokens(server.chain, {
      from: wallet,
      mint: world.mint,
      destination: strangerAta,
      amount: 50_000_000n,
      reference,
    });
    expect(paid.landed && paid.tx.err).toBe(null);

    const [decision] = await scan(reference);
    expect(decision).toMatchObject({ ok: false, reason: 'wrong_destination' });
    expect(server.chain.tokenAmount(strangerAta)).toBe(50_000_000n);
  });

  it('does not credit a short amount, and says how much arrived', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    await payTokens(server.chain, { from: wallet, mint: world.mint, destination: world.treasuryAta, amount: 9_999_999n, reference });

    const [decision] = await scan(reference, 10_000_000n);
    expect(decision).toMatchObject({ ok: false, reason: 'short_amount', amount: 9_999_999n });
  });

  it('ignores a transaction that moved nothing to us, and one without the reference is never listed', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    const unrelated = await payTokens(server.chain, { from: wallet, mint: world.mint, destination: world.treasuryAta, amount: 1n });
    expect(unrelated.landed).toBe(true);
    expect(await scan(reference)).toEqual([]);

    const tx = unrelated.landed ? await rpc.getTransaction(unrelated.signature) : null;
    expect(
      checkDeposit({ signature: unrelated.signature, commitment: 'finalized', transaction: tx }, { ...expected(reference), reference }),
    ).toMatchObject({
      ok: false,
      reason: 'reference_missing',
    });
  });

  it('decides several deposits under one reference oldest first', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    const first = await payTokens(server.chain, {
      from: wallet,
      mint: world.mint,
      destination: world.treasuryAta,
      amount: 1_000_000n,
      reference,
    });
    const second = await payTokens(server.chain, {
      from: wallet,
      mint: world.mint,
      destination: world.treasuryAta,
      amount: 2_000_000n,
      reference,
    });
    const decisions = await scan(reference);
    expect(decisions.map((d) => [d.signature, d.ok && d.amount])).toEqual([
      [first.signature, 1_000_000n],
      [second.signature, 2_000_000n],
    ]);
  });

  it('waits for finality: nothing is listed, and a confirmed transaction is a retryable "not_finalized"', async () => {
    server.chain.autoFinalize = false;
    try {
      const wallet = await depositor();
      const reference = newReferenceKey();
      const paid = await payTokens(server.chain, {
        from: wallet,
        mint: world.mint,
        destination: world.treasuryAta,
        amount: 3_000_000n,
        reference,
      });
      expect(await scan(reference)).toEqual([]);

      const confirmed = await rpc.getTransaction(paid.signature, 'confirmed');
      const decision = checkDeposit(
        { signature: paid.signature, commitment: 'confirmed', transaction: confirmed },
        { ...expected(reference), reference },
      );
      expect(decision).toMatchObject({ ok: false, reason: 'not_finalized' });
      expect(isFinalDecision(decision)).toBe(false);

      server.chain.finalize();
      expect(await scan(reference)).toEqual([expect.objectContaining({ ok: true, amount: 3_000_000n })]);
    } finally {
      server.chain.autoFinalize = true;
      server.chain.finalize();
    }
  });

  it('pages back from `before` when a scan was cut short, and asks a skip function about the listed signatures only', async () => {
    const wallet = await depositor();
    const reference = newReferenceKey();
    const paid: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const p = await payTokens(server.chain, {
        from: wallet,
        mint: world.mint,
        destination: world.treasuryAta,
        amount: BigInt(i),
        reference,
      });
      paid.push(p.signature);
    }
    const options = { genesisHash: server.chain.genesisHash, maxSignatures: 3 };
    const first = await scanReference(rpc, reference, expected(reference), options);
    expect(first).toMatchObject({ complete: false, newestSignature: paid[4], oldestSignature: paid[2] });
    expect(first.decisions.map((d) => d.signature)).toEqual(paid.slice(2));

    const asked: string[][] = [];
    const rest = await scanReference(rpc, reference, expected(reference), {
      ...options,
      before: first.oldestSignature!,
      skip: async (listed) => {
        asked.push([...listed]);
        return new Set([paid[0]!]);
      },
    });
    expect(asked).toEqual([[paid[1], paid[0]]]); // newest first, as listed
    expect(rest).toMatchObject({ complete: true, newestSignature: paid[1], oldestSignature: paid[0] });
    expect(rest.decisions).toEqual([expect.objectContaining({ ok: true, signature: paid[1], amount: 2n })]);
  });

  it('refuses to scan a different cluster', async () => {
    const reference = newReferenceKey();
    const otherGenesis = newReferenceKey();
    await expect(scanReference(rpc, reference, expected(reference), { genesisHash: otherGenesis })).rejects.toBeInstanceOf(
      WrongClusterError,
    );
  });
});

describe('transfer requests', () => {
  it('builds a Solana Pay URL for the treasury with a fresh reference', async () => {
    const a = await depositInstructions({
      recipient: world.treasury.address,
      mint: world.mint,
      decimals: 6,
      amount: 1_500_000n,
      label: 'gridplane deposit',
    });
    const b = await depositInstructions({ recipient: world.treasury.address, mint: world.mint, decimals: 6 });
    expect(a.url).toBe(
      `solana:${world.treasury.address}?amount=1.5&spl-token=${world.mint}&reference=${a.reference}&label=gridplane%20deposit`,
    );
    expect(a.tokenAccount).toBe(world.treasuryAta);
    expect(b.reference).not.toBe(a.reference);
    expect(b.url).toBe(`solana:${world.treasury.address}?spl-token=${world.mint}&reference=${b.reference}`);
  });

  it('writes whole amounts without a decimal point and keeps every significant digit', () => {
    const base = { recipient: world.treasury.address, mint: world.mint, decimals: 6, reference: newReferenceKey() };
    expect(buildTransferRequestUrl({ ...base, amount: 2_000_000n })).toContain('amount=2&');
    expect(buildTransferRequestUrl({ ...base, amount: 1n })).toContain('amount=0.000001&');
  });
});
