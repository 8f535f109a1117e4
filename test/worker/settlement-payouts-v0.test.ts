import { getCompiledTransactionMessageDecoder, getTransactionDecoder } from '@solana/kit';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { advanceLookupTables } from '../../workers/settlement/lookup-table-run.ts';
import { readTable } from '../../workers/settlement/lookup-table-step.ts';
import { loadSettlement } from '../../workers/settlement/settlement-env.ts';
import { base64ToBytes } from '../../protocol/signed-request.ts';
import { balanceOf, expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { chainControl, newChainWallet, runCron, sendCount, tokenAccountOf, tokenBalance, transactionsOf } from './helpers/solana.ts';
import { batchesOf, fundedAccount, TOKEN, withdrawArriving } from './helpers/payouts.ts';

// Payouts in v0 transactions with the treasury's address lookup table, end to end: withdrawals
// through the API, the cron plans them, creates and extends the table (every table transaction
// stored in D1 before it is broadcast), signs the batch once the table is final, and settles the
// ledger at `finalized`. litesvm runs Agave's lookup-table program. "Paid once" is checked on
// chain (balances, the transactions touching each recipient's token account) and in the ledger.

type Withdrawal = Awaited<ReturnType<typeof withdrawArriving>>;

async function manyWithdrawals(n: number): Promise<Withdrawal[]> {
  const accounts = await Promise.all(Array.from({ length: 4 }, () => fundedAccount('1000')));
  const recipients = await Promise.all(Array.from({ length: n }, () => newChainWallet({ tokenAccount: true })));
  const out: Withdrawal[] = [];
  for (const [i, r] of recipients.entries()) out.push(await withdrawArriving(accounts[i % 4]!, r, 3n * TOKEN + BigInt(i)));
  return out;
}

interface TableRow {
  id: string;
  address: string;
  status: string;
  version: number;
  pending: string | null;
}

const activeTable = () =>
  env.DB.prepare(`SELECT id, address, status, version, pending FROM payout_lookup_tables WHERE status = 'active'`).first<TableRow>();

/** Every recipient holds exactly its amount, and exactly one successful transaction among `signatures` touched its token account. */
async function expectPaidOnceOnChain(withdrawals: Withdrawal[], signatures: string[]): Promise<void> {
  for (const w of withdrawals) {
    expect(await tokenBalance(w.destination), w.destination).toBe(w.amount);
    const touching = (await transactionsOf(await tokenAccountOf(w.destination))).filter((t) => signatures.includes(t.signature));
    expect(touching, w.destination).toHaveLength(1);
    expect(touching[0]!.err).toBeNull();
  }
}

function messageOf(wireBase64: string) {
  return getCompiledTransactionMessageDecoder().decode(getTransactionDecoder().decode(base64ToBytes(wireBase64)!).messageBytes);
}

describe('payouts with an address lookup table', () => {
  it('keeps a batch that fits one legacy transaction legacy: no table is made', async () => {
    const withdrawals = await manyWithdrawals(3);
    const ids = withdrawals.map((w) => w.id);
    await runCron();
    const [batch, ...rest] = await batchesOf(ids);
    expect(rest).toEqual([]);
    expect(batch).toMatchObject({ uses_lookup_table: 0, lookup_table: null, payouts: 3 });
    expect(messageOf(batch!.wire_transaction!).version).toBe('legacy');
    expect(await activeTable()).toBeNull();
    await runCron();
    expect((await batchesOf(ids))[0]!.state).toBe('paid');
    await expectPaidOnceOnChain(withdrawals, [batch!.signature!]);
  });

  it('pays 55 withdrawals in one v0 transaction, each exactly once on chain and in the ledger, surviving a crash between extension and use', async () => {
    const pendingBefore = await balanceOf(SYSTEM_ACCOUNTS.payoutsPending);
    const withdrawals = await manyWithdrawals(55);
    const ids = withdrawals.map((w) => w.id);

    await runCron(); // plans one v0 batch; the table is created with its first 28 addresses
    let [batch, ...rest] = await batchesOf(ids);
    expect(rest).toEqual([]);
    expect(batch).toMatchObject({ uses_lookup_table: 1, state: 'queued', payouts: 55 });
    const created = (await activeTable())!;
    expect(JSON.parse(created.pending!)).toMatchObject({ kind: 'create' });

    // The next run settles the creation and extends by the other 29 addresses (two transactions,
    // stored before broadcast); the first one's packet is lost, and the run "crashes" before it
    // uses the table (only the table half of the run happens).
    await chainControl('dropNextSend', { account: created.address });
    const s = await loadSettlement(env);
    expect(await advanceLookupTables(testDb(), s, Date.now())).toBeNull();
    const extension = JSON.parse((await activeTable())!.pending!) as { kind: string; transactions: { signature: string }[] };
    expect(extension.kind).toBe('extend');
    expect(extension.transactions).toHaveLength(2);
    expect((await readTable(s.rpc, created.address))!.addresses).toHaveLength(28 + 1); // the creation's and the second extension's

    // The run after the crash: the lost extension is re-broadcast (same bytes, same signature),
    // nothing new is signed for the table, and the batch is not signed on a table lacking accounts.
    await runCron();
    [batch] = await batchesOf(ids);
    expect(batch).toMatchObject({ state: 'queued', attempt: 0, signature: null });
    expect(JSON.parse((await activeTable())!.pending!)).toEqual(extension);
    expect(await sendCount(extension.transactions[0]!.signature)).toBe(2);

    await runCron(); // the extension is final: the table holds all 57 accounts, the batch is signed and sent
    [batch] = await batchesOf(ids);
    expect(batch).toMatchObject({ state: 'sent', attempt: 1, lookup_table: created.address });
    const message = messageOf(batch!.wire_transaction!);
    expect(message.version).toBe(0);
    expect(message.staticAccounts).toHaveLength(2); // the treasury and the token program; 57 by index

    await runCron();
    [batch] = await batchesOf(ids);
    expect(batch!.state).toBe('paid');
    await expectPaidOnceOnChain(withdrawals, [batch!.signature!]);
    const { results } = await env.DB.prepare('SELECT DISTINCT status FROM payouts WHERE id IN (SELECT value FROM json_each(?1))')
      .bind(JSON.stringify(ids))
      .all<{ status: string }>();
    expect(results.map((r) => r.status)).toEqual(['paid']);

    // The table: each account once (the extension was not repeated), nothing pending.
    const onChain = (await readTable(s.rpc, created.address))!.addresses;
    expect(onChain).toHaveLength(57);
    expect(new Set(onChain).size).toBe(57);
    expect((await activeTable())!.pending).toBeNull();
    expect(await balanceOf(SYSTEM_ACCOUNTS.payoutsPending)).toBe(pendingBefore);
    await expectLedgerReconciles();
  });
});
