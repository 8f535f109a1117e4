// Over 300 lines: one function per money invariant, all run after every simulator step; they are read as one list of what must hold.
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../../../db/schema.ts';
import type { Db } from '../../../workers/app-env.ts';
import { SYSTEM_ACCOUNTS } from '../../../workers/ledger/ledger-accounts.ts';
import { reconcileLedger } from '../../../workers/ledger/reconcile.ts';
import { STAKING_ACCOUNTS } from '../../../workers/staking/staking-accounts.ts';
import { chainControl } from '../helpers/solana.ts';
import type { World } from './sim-world.ts';

// What must hold after every step of the simulation, read from D1 (through the real binding, not
// the faulty one: the checker is not part of the system under test) and, for payouts, from the
// chain. Each check returns the violations it found, with enough of the rows to see why.

export interface Violation {
  invariant: string;
  detail: unknown;
}

const cleanDb = (): Db => drizzle(env.DB, { schema }) as Db;

/**
 * The checks' queries go to D1 as one batch (one round trip, and one snapshot): the checks run
 * concurrently and each issues its queries before its first await, so a microtask later every
 * pending query is known and sent together.
 */
let pending: { statement: D1PreparedStatement; resolve: (rows: unknown[]) => void; reject: (e: unknown) => void }[] = [];

function rows<T>(sql: string, ...params: unknown[]): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    if (pending.length === 0) queueMicrotask(flush);
    pending.push({ statement: env.DB.prepare(sql).bind(...params), resolve: resolve as (rows: unknown[]) => void, reject });
  });
}

function flush(): void {
  const queued = pending;
  pending = [];
  env.DB.batch(queued.map((q) => q.statement)).then(
    (results) => {
      for (const [i, r] of results.entries()) queued[i]!.resolve(r.results);
    },
    (error: unknown) => {
      for (const q of queued) q.reject(error);
    },
  );
}

/** The ledger's own reconciliation: balanced transactions, balances = entries, none negative, supply = minted − burned. */
async function ledgerConserved(): Promise<Violation[]> {
  const report = await reconcileLedger(cleanDb());
  return report.checks.filter((c) => !c.ok).map((c) => ({ invariant: `ledger: ${c.name}`, detail: c.samples }));
}

/** Each job's escrow: held once, resolved (captured + refunded) once and exactly, never over. */
async function escrowsResolveOnce(): Promise<Violation[]> {
  const [jobs, orphans] = await Promise.all([
    rows<{
      id: string;
      status: string;
      escrow_amount: number;
      balance: number | null;
      holds: number;
      settles: number;
      captured: number | null;
      refunded: number | null;
      fee: number | null;
      settled_out: number | null;
      commitments: number;
      ran_cap: number | null;
    }>(`
    SELECT j.id, j.status, j.escrow_amount, a.balance,
      (SELECT count(*) FROM ledger_transactions t WHERE t.idempotency_key = 'job:' || j.id || ':hold') AS holds,
      (SELECT count(*) FROM ledger_transactions t WHERE t.idempotency_key = 'job:' || j.id || ':settle') AS settles,
      j.captured, j.refunded, j.fee,
      (SELECT -sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
         WHERE t.idempotency_key = 'job:' || j.id || ':settle' AND e.account_id = 'escrow:' || j.id) AS settled_out,
      (SELECT count(*) FROM gpu_commitments g WHERE g.job_id = j.id) AS commitments,
      -- What can have run: the node's price for its GPUs from the start to the close, plus the
      -- receipt grace (jobs.service RECEIPT_GRACE_S); nothing before a start.
      CASE WHEN j.started_at IS NULL THEN 0
           ELSE (j.price_per_gpu_hour * j.gpu_count * (max(0, (j.finished_at - j.started_at + 999) / 1000) + 2)) / 3600 END AS ran_cap
    FROM jobs j LEFT JOIN accounts a ON a.id = 'escrow:' || j.id`),
    rows(
      `SELECT id, balance FROM accounts WHERE kind = 'escrow' AND substr(id, 8) NOT IN (SELECT id FROM jobs) AND substr(id, 8) NOT IN (SELECT id FROM endpoints)`,
    ),
  ]);
  const out: Violation[] = [];
  const terminal = new Set(['succeeded', 'failed', 'cancelled', 'expired']);
  for (const j of jobs) {
    const bad = (why: string) => out.push({ invariant: `escrow: ${why}`, detail: j });
    if (j.holds !== 1) bad('held other than once');
    if (j.settles > 1) bad('settled more than once');
    if (terminal.has(j.status)) {
      if (j.settles !== 1) bad('a closed job whose escrow is not settled');
      if (j.balance !== 0) bad('a closed job whose escrow account is not empty');
      if ((j.captured ?? 0) + (j.refunded ?? 0) !== j.escrow_amount) bad('captured + refunded differs from the escrow');
      if ((j.captured ?? 0) > j.escrow_amount) bad('captured more than the escrow');
      if ((j.captured ?? 0) > (j.ran_cap ?? 0)) bad('captured more than the GPU time that can have run');
      if ((j.fee ?? 0) > (j.captured ?? 0)) bad('fee above what was captured');
      if (j.settled_out !== j.escrow_amount) bad('the settlement moved other than the whole escrow');
      if (j.commitments !== 0) bad('a closed job still holds GPUs');
    } else {
      if (j.settles !== 0) bad('an open job with a settlement');
      if (j.balance !== j.escrow_amount) bad('an open job whose escrow balance differs from its hold');
    }
  }
  // Every escrow account belongs to a job (or is an endpoint's hold, checked by endpointHolds).
  if (orphans.length > 0) out.push({ invariant: 'escrow: an escrow account without a job', detail: orphans });
  return out;
}

/** Each deposit signature is credited at most once, for what arrived, to the reference's owner. */
async function depositsCreditedOnce(world: World, final: boolean): Promise<Violation[]> {
  const out: Violation[] = [];
  const [credited, depositTxs] = await Promise.all([
    rows<{
      signature: string;
      status: string;
      amount: number | null;
      account_id: string | null;
      reference: string | null;
      txs: number;
      tx_amount: number | null;
    }>(`
    SELECT d.signature, d.status, d.amount, d.account_id, d.reference,
      (SELECT count(*) FROM ledger_transactions t WHERE t.idempotency_key = 'deposit:' || d.signature) AS txs,
      (SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
         WHERE t.idempotency_key = 'deposit:' || d.signature AND e.account_id = d.account_id) AS tx_amount
    FROM deposits d`),
    rows<{ n: number }>(`SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'deposit'`),
  ]);
  const bySig = new Map(credited.map((d) => [d.signature, d]));
  const creditedRows = credited.filter((d) => d.status === 'credited').length;
  if (depositTxs[0]!.n !== creditedRows)
    out.push({
      invariant: 'deposits: ledger deposits differ from credited rows',
      detail: { ledger: depositTxs[0]!.n, credited: creditedRows },
    });
  for (const ref of world.deposits) {
    for (const p of ref.payments) {
      const row = bySig.get(p.signature);
      if (!p.landed || !row) {
        if (row?.status === 'credited')
          out.push({ invariant: 'deposits: a transaction that did not land was credited', detail: { p, row } });
        if (final && p.landed && p.ours && !row)
          out.push({ invariant: 'deposits: a landed deposit was never decided', detail: { reference: ref.reference, p } });
        continue;
      }
      if (row.status === 'credited') {
        if (!p.ours) out.push({ invariant: 'deposits: a look-alike mint transfer was credited', detail: { p, row } });
        if (row.txs !== 1) out.push({ invariant: 'deposits: a signature credited other than once', detail: row });
        if (row.amount !== p.amount || row.tx_amount !== p.amount)
          out.push({ invariant: 'deposits: credited other than what arrived', detail: { p, row } });
        if (row.account_id !== ref.owner.account.accountId)
          out.push({
            invariant: "deposits: credited to someone other than the reference's owner",
            detail: { row, owner: ref.owner.account.accountId },
          });
      } else {
        if (row.txs !== 0) out.push({ invariant: 'deposits: an ignored signature has a ledger credit', detail: row });
        if (p.ours && final) out.push({ invariant: 'deposits: a good deposit was ignored', detail: { p, row } });
      }
    }
  }
  return out;
}

/** Each payout: paid once in the ledger iff paid, refunded iff cancelled; pending funds match the open ones. */
async function payoutsOnce(): Promise<Violation[]> {
  const out: Violation[] = [];
  const [list, pending] = await Promise.all([
    rows<{ id: string; status: string; amount: number; paid: number; refunded: number }>(`
    SELECT p.id, p.status, p.amount,
      (SELECT count(*) FROM ledger_transactions t WHERE t.idempotency_key = 'payout:' || p.id || ':paid') AS paid,
      (SELECT count(*) FROM ledger_transactions t WHERE t.idempotency_key = 'payout:' || p.id || ':cancelled') AS refunded
    FROM payouts p`),
    rows<{ balance: number; open: number }>(
      `SELECT (SELECT balance FROM accounts WHERE id = ?1) AS balance,
              (SELECT coalesce(sum(amount), 0) FROM payouts WHERE status IN ('queued', 'batched')) AS open`,
      SYSTEM_ACCOUNTS.payoutsPending,
    ),
  ]);
  for (const p of list) {
    if (p.paid + p.refunded > 1) out.push({ invariant: 'payouts: both paid and refunded', detail: p });
    if (p.status === 'paid' && p.paid !== 1) out.push({ invariant: 'payouts: paid without its ledger payout', detail: p });
    if (p.status === 'cancelled' && p.refunded !== 1) out.push({ invariant: 'payouts: cancelled without its refund', detail: p });
    if ((p.status === 'queued' || p.status === 'batched') && p.paid + p.refunded !== 0)
      out.push({ invariant: 'payouts: open payout already settled', detail: p });
  }
  const { balance, open } = pending[0]!;
  if (balance !== open) out.push({ invariant: 'payouts: system:payouts_pending differs from the open payouts', detail: { balance, open } });
  return out;
}

/**
 * On chain: a payout's recipient received its amount once (one landed transfer into its token
 * account) when paid, nothing when cancelled, and never more than once. Recipients are fresh
 * addresses, so their token accounts hold payouts and nothing else.
 */
export async function payoutsOnChain(world: World, opts: { final?: boolean } = {}): Promise<Violation[]> {
  const out: Violation[] = [];
  const status = new Map(
    (await env.DB.prepare(`SELECT id, status FROM payouts`).all<{ id: string; status: string }>()).results.map((r) => [r.id, r.status]),
  );
  for (const p of world.payouts) {
    const s = status.get(p.id);
    // Between steps only payouts that can still move on chain are read (one RPC call each); the
    // final check reads every one again.
    if (s === undefined || (!opts.final && (s === 'queued' || s === 'cancelled' || world.paidOnChain.has(p.id)))) continue;
    const balance = BigInt(await chainControl<string>('tokenBalance', { owner: p.destination }).catch(() => '0'));
    const expected = s === 'paid' ? [BigInt(p.amount)] : s === 'batched' ? [0n, BigInt(p.amount)] : [0n];
    if (!expected.includes(balance))
      out.push({
        invariant: 'payouts: on-chain amount differs from the ledger status',
        detail: { payout: p, status: s, onChain: balance.toString() },
      });
    else if (s === 'paid') world.paidOnChain.add(p.id);
  }
  return out;
}

/** An epoch's rewards stay within its emission (plus carry); the reward pool is empty between closes. */
async function epochsWithinEmission(): Promise<Violation[]> {
  const out: Violation[] = [];
  const [epochs, pool] = await Promise.all([
    rows<{
      epoch: number;
      status: string;
      step: string;
      emission: number;
      carry_in: number;
      minted: number | null;
      fees: number;
      burned: number | null;
      rewarded: number | null;
      fee_moved: number | null;
      mint_tx: number | null;
    }>(
      `
    SELECT e.epoch, e.status, e.step, e.emission, e.carry_in, e.minted, e.fees, e.burned,
      (SELECT sum(en.amount) FROM ledger_entries en JOIN ledger_transactions t ON t.id = en.tx_id
         WHERE t.kind = 'reward' AND t.idempotency_key LIKE 'epoch:' || e.epoch || ':rewards:%' AND en.amount > 0) AS rewarded,
      (SELECT -sum(en.amount) FROM ledger_entries en JOIN ledger_transactions t ON t.id = en.tx_id
         WHERE t.idempotency_key = 'epoch:' || e.epoch || ':fees' AND en.account_id = ?1) AS fee_moved,
      (SELECT sum(en.amount) FROM ledger_entries en JOIN ledger_transactions t ON t.id = en.tx_id
         WHERE t.idempotency_key = 'epoch:' || e.epoch || ':mint' AND en.account_id = ?2) AS mint_tx
    FROM epochs e`,
      SYSTEM_ACCOUNTS.fees,
      STAKING_ACCOUNTS.rewardPool,
    ),
    rows<{ balance: number | null }>(`SELECT balance FROM accounts WHERE id = ?1`, STAKING_ACCOUNTS.rewardPool),
  ]);
  for (const e of epochs) {
    const cap = e.emission + e.carry_in;
    if ((e.minted ?? 0) > cap) out.push({ invariant: 'epochs: minted more than emission plus carry', detail: e });
    if ((e.mint_tx ?? 0) > cap) out.push({ invariant: 'epochs: the mint transaction exceeds emission plus carry', detail: e });
    if ((e.rewarded ?? 0) > (e.mint_tx ?? 0)) out.push({ invariant: "epochs: rewards credited exceed the epoch's mint", detail: e });
    if (e.fee_moved !== null && e.fee_moved !== e.fees)
      out.push({ invariant: 'epochs: fees moved differ from the fees at the snapshot', detail: e });
  }
  const closing = epochs.some((e) => e.status === 'closing');
  if (!closing && (pool[0]?.balance ?? 0) !== 0) out.push({ invariant: 'epochs: reward pool not empty between closes', detail: pool[0] });
  return out;
}

/** Stake bookkeeping: system:staked holds exactly the bonded stakes, system:unbonding the unbonding ones. */
async function stakesMatch(): Promise<Violation[]> {
  const r = await rows<{ staked: number | null; bonded: number; unbonding: number | null; waiting: number }>(
    `SELECT (SELECT balance FROM accounts WHERE id = ?1) AS staked, (SELECT coalesce(sum(amount), 0) FROM stakes) AS bonded,
            (SELECT balance FROM accounts WHERE id = ?2) AS unbonding,
            (SELECT coalesce(sum(amount), 0) FROM unbondings WHERE status = 'unbonding') AS waiting`,
    STAKING_ACCOUNTS.staked,
    STAKING_ACCOUNTS.unbonding,
  );
  const x = r[0]!;
  const out: Violation[] = [];
  if ((x.staked ?? 0) !== x.bonded) out.push({ invariant: 'staking: system:staked differs from the bonded stakes', detail: x });
  if ((x.unbonding ?? 0) !== x.waiting) out.push({ invariant: 'staking: system:unbonding differs from the unbonding rows', detail: x });
  return out;
}

/**
 * Endpoint replicas and holds (workers/endpoints/README.md "Billing"): each replica's bill is the
 * price formula of exactly its billed milliseconds, never past the signed receipt or the ready
 * time the Worker saw (up to the largest clock skew a cron tick gets), fee within it, no GPUs
 * once stopped; each hold gave exactly what its replicas billed, nothing else was captured from
 * it, and it is empty once a stopped or deleted endpoint has settled (final check).
 */
async function endpointHolds(world: World, final: boolean): Promise<Violation[]> {
  const [replicas, endpoints] = await Promise.all([
    rows<{
      id: string;
      endpoint_id: string;
      price: number;
      gpus: number;
      billed_ms: number;
      billed_amount: number;
      billed_fee: number;
      ready_ms: number;
      ready_since: number | null;
      receipt_ready_ms: number;
      stopped_at: number | null;
      commitments: number;
    }>(`
      SELECT r.id, r.endpoint_id, r.price_per_gpu_hour AS price, r.gpu_count AS gpus, r.billed_ms, r.billed_amount, r.billed_fee, r.ready_ms, r.ready_since,
        r.receipt_ready_ms, r.stopped_at, (SELECT count(*) FROM gpu_commitments g WHERE g.job_id = r.id) AS commitments
      FROM endpoint_replicas r`),
    rows<{ id: string; status: string; hold: number | null; billed: number; captured: number; live: number; last_stop: number | null }>(`
      SELECT e.id, e.status, a.balance AS hold,
        (SELECT coalesce(sum(r.billed_amount), 0) FROM endpoint_replicas r WHERE r.endpoint_id = e.id) AS billed,
        (SELECT coalesce(-sum(en.amount), 0) FROM ledger_entries en JOIN ledger_transactions t ON t.id = en.tx_id
           WHERE t.kind = 'capture' AND en.account_id = 'escrow:' || e.id) AS captured,
        (SELECT count(*) FROM endpoint_replicas r WHERE r.endpoint_id = e.id AND r.stopped_at IS NULL) AS live,
        (SELECT max(r.stopped_at) FROM endpoint_replicas r WHERE r.endpoint_id = e.id) AS last_stop
      FROM endpoints e LEFT JOIN accounts a ON a.id = 'escrow:' || e.id`),
  ]);
  const out: Violation[] = [];
  // A cron tick runs at most this far after the simulated now (sim-run.ts clock skew) and bills up to its own time.
  const skewMs = 20_000;
  for (const r of replicas) {
    const bad = (why: string) => out.push({ invariant: `endpoints: ${why}`, detail: r });
    const formula = (BigInt(r.price) * BigInt(r.gpus) * BigInt(r.billed_ms)) / 3_600_000n;
    if (BigInt(r.billed_amount) !== formula) bad('billed amount is not the price of the billed milliseconds');
    if (r.billed_ms > r.receipt_ready_ms) bad('billed past the signed receipt');
    const observed = r.ready_ms + (r.ready_since === null ? 0 : Math.max(0, world.now + skewMs - r.ready_since));
    if (r.billed_ms > observed) bad('billed more than the ready time the Worker saw');
    if (r.billed_fee > r.billed_amount) bad('fee above the bill');
    if (r.stopped_at !== null && r.commitments !== 0) bad('a stopped replica still holds GPUs');
  }
  for (const e of endpoints) {
    const bad = (why: string) => out.push({ invariant: `endpoints: ${why}`, detail: e });
    if (e.captured !== e.billed) bad('the hold gave other than what its replicas billed');
    if (final && e.status !== 'active') {
      if (e.live !== 0) bad('a stopped or deleted endpoint still has live replicas');
      if ((e.hold ?? 0) !== 0) bad('a stopped or deleted endpoint kept money in its hold');
    }
  }
  return out;
}

export async function checkInvariants(world: World, opts: { final?: boolean } = {}): Promise<Violation[]> {
  const final = opts.final ?? false;
  const groups = await Promise.all([
    ledgerConserved(),
    escrowsResolveOnce(),
    depositsCreditedOnce(world, final),
    payoutsOnce(),
    epochsWithinEmission(),
    stakesMatch(),
    endpointHolds(world, final),
  ]);
  return groups.flat();
}
