// Over 300 lines: one operation per fault-simulator step, all drawing from one seeded random stream; split, a seed would no longer replay the same run without threading the stream through every file (follow-up: one file per operation family, as sim-endpoints.ts is).
import worker from '../../../workers/index.ts';
import { AppError } from '../../../workers/errors.ts';
import { applyAgentEvent } from '../../../workers/jobs/agent-events.ts';
import type { AgentEvent } from '../../../workers/jobs/job-input.schema.ts';
import { getJob } from '../../../workers/jobs/jobs.repo.ts';
import { cancelJob, submitJob } from '../../../workers/jobs/jobs.service.ts';
import { SYSTEM_ACCOUNTS } from '../../../workers/ledger/ledger-accounts.ts';
import { postTransaction } from '../../../workers/ledger/ledger.repo.ts';
import { requestWithdrawal } from '../../../workers/ledger/payouts.ts';
import { createDepositRequest } from '../../../workers/settlement/deposit-requests.ts';
import { findReference, scanAndRecord } from '../../../workers/settlement/deposit-scan.ts';
import { addStake, unstake } from '../../../workers/staking/staking.service.ts';
import { seededRandom, type Rng } from '../../support/seeded-random.ts';
import { chainControl } from '../helpers/solana.ts';
import { isSimCrash } from './faulty-d1.ts';
import { SimEndpoints } from './sim-endpoints.ts';
import { checkInvariants, payoutsOnChain, type Violation } from './sim-invariants.ts';
import { buildWorld, heartbeatAlive, type AgentScript, type SimAccount, type SimJob, type SimNode, type World } from './sim-world.ts';

// The seeded fault simulator (test/worker/sim/README.md). One seed drives a random sequence of
// operations on the real domain code — faucet mints, job submissions, agent events, cancels,
// deposits, withdrawals, stakes, unstakes, cron ticks (job sweep, epoch close, settlement) — and
// injects faults: a crash before any D1 write (then the cron runs as recovery), duplicated and
// reordered agent events, repeated requests and scans, overlapping cron runs, an RPC send that
// lands but never answers, delayed finality, clock skew, nodes dying mid-job. After every step
// the invariants (sim-invariants.ts) are checked; a violation stops the seed with its trace.

export type FaultKind =
  | 'crash'
  | 'duplicate_event'
  | 'reordered_event'
  | 'duplicate_request'
  | 'concurrent_scan'
  | 'overlapping_cron'
  | 'rpc_timeout_after_send'
  | 'lagging_finality'
  | 'clock_skew'
  | 'node_death'
  | 'lookalike_deposit';

export interface SimResult {
  seed: number;
  steps: number;
  ok: boolean;
  violations: Violation[];
  /** The last lines of the trace (all of them when it is short). */
  trace: string[];
  faults: Partial<Record<FaultKind, number>>;
  ops: Record<string, number>;
  opMs: Record<string, number>;
  /** Errors the system logged outside injected crashes (kept for the report, not a failure by themselves). */
  loggedErrors: string[];
  ms: number;
  /** Where the time went: building the world, the steps, the quiesce phase. */
  phases: { setupMs: number; stepsMs: number; quiesceMs: number };
}

export interface SimOptions {
  steps: number;
  /** Probability that an operation is armed to crash before one of its first few D1 writes. */
  crashRate?: number;
}

const TRACE_TAIL = 60;
const MAX_RPC_TIMEOUTS = 2;

class Sim {
  readonly random: Rng;
  readonly trace: string[] = [];
  readonly faults: Partial<Record<FaultKind, number>> = {};
  readonly ops: Record<string, number> = {};
  /** Milliseconds spent per operation kind, and in the invariant checks. */
  readonly opMs: Record<string, number> = {};
  readonly loggedErrors: string[] = [];
  /** Violations an operation saw itself (a retry under the same key that did something new). */
  readonly seen: Violation[] = [];
  /** The endpoint billing path's operations (sim-endpoints.ts). */
  readonly endpoints: SimEndpoints = new SimEndpoints(this);
  private n = 0;
  private step = 0;
  private readonly start: number;

  constructor(
    readonly world: World,
    random: Rng,
    readonly crashRate: number,
  ) {
    this.random = random;
    this.start = world.now;
  }

  int = (n: number) => Math.floor(this.random() * n);
  chance = (p: number) => this.random() < p;
  pick = <T>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[this.int(xs.length)]);
  key = (what: string) => `sim:${this.world.seed.toString(36)}:${what}:${++this.n}`;
  fault(kind: FaultKind) {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }
  log(line: string) {
    this.trace.push(`#${this.step} t+${Math.round((this.world.now - this.start) / 1000)}s ${line}`);
  }

  /**
   * Runs one operation of the system as one isolate would: maybe armed to crash before its kth
   * D1 write. Expected refusals (AppError: 402, 409 …) are part of life; a crash is followed by
   * the cron, which is how the system recovers from a dead isolate.
   */
  async attempt<T>(label: string, run: () => Promise<T>, crashable = true): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
    const armed = crashable && this.chance(this.crashRate) ? 1 + this.int(4) : 0;
    if (armed) this.world.faulty.arm(armed);
    let outcome: { ok: true; value: T } | { ok: false; code: string } | null = null;
    try {
      outcome = { ok: true, value: await run() };
    } catch (error) {
      if (!(this.world.faulty.crashed !== null || isSimCrash(error))) {
        this.world.faulty.disarm();
        if (error instanceof AppError) return { ok: false, code: error.code };
        throw error;
      }
    }
    // Crashed, even where the code caught the error and went on: the isolate is gone.
    const crashed = this.world.faulty.crashed !== null;
    this.world.faulty.disarm();
    if (!crashed && outcome) return outcome;
    this.fault('crash');
    this.log(`${label}: CRASH before write ${armed}; cron recovers`);
    await this.cron('recovery');
    return { ok: false, code: 'crash' };
  }

  // ---------------------------------------------------------------- operations

  async faucet() {
    const a = this.pick(this.world.accounts)!;
    const amount = 1_000_000 * (1 + this.int(50));
    const key = this.key('faucet');
    const mint = () =>
      postTransaction(this.world.db, {
        kind: 'mint',
        idempotencyKey: key,
        entries: [
          { account: SYSTEM_ACCOUNTS.emission, amount: -amount },
          { account: a.account.accountId, amount },
        ],
        memo: 'development faucet',
      });
    const r = await this.attempt('faucet', mint);
    this.log(`faucet ${a.name} ${amount} → ${r.ok ? 'ok' : r.code}`);
    if (this.chance(0.3)) {
      this.fault('duplicate_request');
      const again = await this.attempt('faucet retry', mint);
      this.log(`faucet retry (same key) → ${again.ok ? (again.value.replayed ? 'replayed' : 'posted') : again.code}`);
      if (r.ok && again.ok && (!again.value.replayed || again.value.id !== r.value.id)) {
        this.seen.push({
          invariant: 'idempotency: a retried mint under the same key posted again',
          detail: { key, first: r.value.id, retry: again.value.id },
        });
      }
    }
  }

  async submit() {
    const renter = this.pick(this.world.accounts)!;
    const near = this.pick(this.world.nodes)!;
    const idem = `${renter.account.accountId}:${this.key('job')}`;
    const input = {
      accountId: renter.account.accountId,
      request: {
        gpu: { model: 'RTX 4090', count: 1 + this.int(2) },
        durationS: 60 + this.int(900),
        image: 'python:3.12-slim',
        command: ['python', '-c', 'print(1)'],
        env: { SIM: 'x' },
      },
      client: { lat: near.lat + 0.1, lon: near.lon + 0.1 },
      maxPrice: null,
      idempotencyKey: idem,
    };
    const run = () => submitJob(this.world.ctx, input, this.world.now);
    let r = await this.attempt('submit', run);
    if (!r.ok && r.code === 'crash') r = await this.attempt('submit retry', run);
    else if (r.ok && this.chance(0.2)) {
      this.fault('duplicate_request');
      const again = await this.attempt('submit retry', run);
      this.log(`submit retry (same Idempotency-Key) → ${again.ok ? (again.value.replayed ? 'replayed' : 'NEW JOB') : again.code}`);
      if (again.ok && (!again.value.replayed || again.value.job.id !== r.value.job.id)) {
        this.seen.push({
          invariant: 'idempotency: a retried job submission made a second job',
          detail: { idem, first: r.value.job.id, retry: again.value.job.id },
        });
      }
    }
    if (!r.ok) {
      this.log(`submit ${renter.name} → ${r.code}`);
      return;
    }
    const job = r.value.job;
    this.log(
      `submit ${renter.name} ${job.id.slice(0, 12)} ${job.gpuCount}gpu ${job.durationS}s → ${job.status} on ${this.nodeName(job.nodeId)}`,
    );
    if (!this.world.jobs.some((j) => j.id === job.id)) this.world.jobs.push({ id: job.id, renter, scripts: [] });
  }

  nodeName(nodeId: string | null | undefined) {
    return this.world.nodes.find((n) => n.agent.nodeId === nodeId)?.name ?? String(nodeId);
  }

  /** The agent of the node a job is on: it has a script per (job, node), made when it first looks. */
  async agentEvent() {
    const open = this.world.jobs.filter((j) => !this.closed.has(j.id));
    const job = this.pick(open);
    if (!job) return;
    const row = await getJob(this.world.db, job.id);
    if (!row) return;
    if (['succeeded', 'failed', 'cancelled', 'expired'].includes(row.status)) {
      this.closed.add(job.id);
      // A late duplicate of an event the job has moved past: must change nothing.
      const late = this.pick(job.scripts.flatMap((s) => s.sent.map((e) => ({ s, e }))));
      if (late && this.chance(0.5)) {
        this.fault('duplicate_event');
        const r = await this.attempt('late event', () => this.deliver(late.s, late.e.event));
        this.log(`late duplicate ${late.e.eventId} on closed job → ${r.ok ? JSON.stringify(r.value) : r.code}`);
      }
      return;
    }
    const node = this.world.nodes.find((n) => n.agent.nodeId === row.nodeId);
    if (!node?.alive) return;
    let script = job.scripts.find((s) => s.node === node);
    if (!script) {
      const plan: AgentScript['plan'] = this.chance(0.08)
        ? ['rejected']
        : this.chance(0.08)
          ? []
          : ['accepted', 'started', 'log', 'log', 'finished'];
      script = { jobId: job.id, node, plan, sent: [], logSeq: 0 };
      job.scripts.push(script);
    }
    if (script.sent.length > 0 && this.chance(0.15)) {
      this.fault('duplicate_event');
      const again = this.pick(script.sent)!;
      const r = await this.attempt('duplicate event', () => this.deliver(script, again.event));
      this.log(`duplicate ${again.eventId} → ${r.ok ? JSON.stringify(r.value) : r.code}`);
      return;
    }
    if (script.plan.length === 0) return;
    // Reordered delivery: the next-but-one event overtakes the next one (it stays queued).
    const reorder = script.plan.length > 1 && this.chance(0.15);
    const at = reorder ? 1 : 0;
    if (reorder) this.fault('reordered_event');
    const kind = script.plan.splice(at, 1)[0]!;
    const event = this.buildEvent(script, kind, row.startedAt);
    script.sent.push({ eventId: String(event.eventId), event });
    const r = await this.attempt(`event ${kind}`, () => this.deliver(script, event));
    this.log(
      `${node.name} ${kind}${reorder ? ' (reordered)' : ''} ${job.id.slice(0, 12)} → ${r.ok ? `${r.value.status}${r.value.applied ? '' : ' (not applied)'}` : r.code}`,
    );
    if (!r.ok && r.code === 'crash' && this.chance(0.7)) {
      // The agent did not get an answer: it sends the same event again.
      this.fault('duplicate_event');
      const again = await this.attempt('event resend', () => this.deliver(script, event));
      this.log(`resend ${String(event.eventId)} → ${again.ok ? again.value.status : again.code}`);
    }
  }

  private readonly closed = new Set<string>();

  buildEvent(script: AgentScript, kind: AgentScript['plan'][number], startedAt: number | null): Record<string, unknown> {
    const base = `${script.jobId}:${script.node.name}`;
    switch (kind) {
      case 'log': {
        const seq = script.logSeq++;
        return { eventId: `${base}:log:${seq}`, kind, seq, stream: 'stdout', data: `line ${seq} SIM=x\n` };
      }
      case 'finished': {
        const ranS = startedAt === null ? 0 : Math.max(0, Math.round((this.world.now - startedAt) / 1000));
        // An honest receipt, or one that claims up to twice what ran: billing must cap it.
        const claimed = this.chance(0.2) ? ranS * 4 + 100 : ranS * (this.chance(0.5) ? 1 : 2);
        return {
          eventId: `${base}:finished`,
          kind,
          exitCode: this.chance(0.85) ? 0 : 1,
          reason: 'exited',
          receipt: { gpuSeconds: claimed, runSeconds: ranS },
        };
      }
      case 'rejected':
        return { eventId: `${base}:rejected`, kind, reason: 'image pull failed' };
      default:
        return { eventId: `${base}:${kind}`, kind };
    }
  }

  async deliver(script: AgentScript, event: Record<string, unknown>) {
    const signed = {
      path: `/v1/nodes/${script.node.agent.nodeId}/jobs/${script.jobId}/events`,
      timestamp: this.world.now,
      nonce: 'sim',
      signature: 'sim',
      body: JSON.stringify(event),
    };
    return applyAgentEvent(this.world.ctx, script.node.agent.nodeId, script.jobId, event as unknown as AgentEvent, signed, this.world.now);
  }

  async cancel() {
    const job = this.pick(this.world.jobs.filter((j) => !this.closed.has(j.id)));
    if (!job) return;
    const r = await this.attempt('cancel', () => cancelJob(this.world.ctx, job.renter.account.accountId, job.id, this.world.now));
    this.log(`cancel ${job.id.slice(0, 12)} → ${r.ok ? r.value.status : r.code}`);
  }

  async nodeLifecycle() {
    const node = this.pick(this.world.nodes)!;
    if (node.alive) {
      // At most all but one node down, so the network can still take jobs.
      if (this.world.nodes.filter((n) => n.alive).length <= 1) return;
      node.alive = false;
      this.fault('node_death');
      this.log(`${node.name} dies (stops heartbeats and events)`);
    } else {
      node.alive = true;
      await heartbeatAlive(this.world);
      this.log(`${node.name} comes back`);
    }
  }

  async deposit() {
    const owner = this.pick(this.world.accounts)!;
    const existing = this.pick(this.world.deposits.filter((d) => d.owner === owner));
    let ref = existing && this.chance(0.5) ? existing : undefined;
    if (!ref) {
      const r = await this.attempt('deposit reference', () =>
        createDepositRequest(this.world.db, this.world.settlement, owner.account.accountId, null, this.world.now),
      );
      if (!r.ok) {
        this.log(`deposit reference for ${owner.name} → ${r.code}`);
        return;
      }
      ref = { reference: r.value.reference.reference, owner, held: false, payments: [] };
      this.world.deposits.push(ref);
    }
    if (!ref.held && this.chance(0.25)) {
      // A lagging cluster: the payment stays `confirmed` (not final) until released.
      await chainControl('holdFinality', { account: ref.reference });
      ref.held = true;
      this.world.held.add(ref.reference);
      this.fault('lagging_finality');
    }
    const ours = !this.chance(0.12);
    if (!ours) this.fault('lookalike_deposit');
    const amount = 100_000 * (1 + this.int(40));
    const paid = await chainControl<{ signature: string; landed: boolean; err: unknown }>('pay', {
      from: owner.chainWallet,
      amount: String(amount),
      reference: ref.reference,
      ...(ours ? {} : { mint: 'lookAlike' }),
    });
    if (ref.payments.some((p) => p.signature === paid.signature)) {
      // The same wallet paying the same amount (and mint) to the same reference under the same
      // blockhash signs the very same transaction (ed25519 signatures are deterministic): the
      // cluster refuses it as already processed. Nothing new was sent, so it is not a payment of
      // its own; recorded as one (landed: false) it would call the first one's rightful credit "a
      // transaction that did not land was credited". What it still tests: the scan credits once.
      this.log(
        `${owner.name} sends the same ${amount} transfer to ${ref.reference.slice(0, 8)} again → ${paid.landed ? 'landed' : JSON.stringify(paid.err)}`,
      );
      if (this.chance(0.5)) await this.checkDeposit(ref.reference, owner);
      return;
    }
    ref.payments.push({ signature: paid.signature, amount, ours, landed: paid.landed });
    this.log(
      `${owner.name} pays ${amount}${ours ? '' : ' (look-alike mint)'} to ${ref.reference.slice(0, 8)}${ref.held ? ' (finality held)' : ''}`,
    );
    if (this.chance(0.5)) await this.checkDeposit(ref.reference, owner);
  }

  async checkDeposit(reference: string, owner: SimAccount) {
    const row = await findReference(this.world.db, owner.account.accountId, reference);
    if (!row) return;
    const scan = () => scanAndRecord(this.world.db, this.world.settlement, row, this.world.now);
    if (this.chance(0.3)) {
      // "Check now" pressed twice at once, or racing the cron: crediting must stay once.
      this.fault('concurrent_scan');
      const [a, b] = await Promise.all([this.attempt('scan A', scan, false), this.attempt('scan B', scan, false)]);
      this.log(
        `concurrent scans of ${reference.slice(0, 8)} → ${a.ok ? a.value.creditedNow : a.code} / ${b.ok ? b.value.creditedNow : b.code}`,
      );
      return;
    }
    const r = await this.attempt('scan', scan);
    this.log(`scan ${reference.slice(0, 8)} → ${r.ok ? `credited ${r.value.creditedNow}` : r.code}`);
  }

  async releaseLag() {
    const ref = this.pick(this.world.deposits.filter((d) => d.held));
    if (!ref) return;
    await chainControl('releaseFinality', { account: ref.reference });
    ref.held = false;
    this.world.held.delete(ref.reference);
    this.log(`finality released for ${ref.reference.slice(0, 8)}`);
  }

  async withdraw() {
    const owner = this.pick(this.world.accounts)!;
    const amount = 10_000 * (1 + this.int(300));
    const destination = await chainControl<string>('newAddress');
    const key = `withdrawal:${owner.account.accountId}:${this.key('w')}`;
    const run = () => requestWithdrawal(this.world.db, { accountId: owner.account.accountId, amount, destination, idempotencyKey: key });
    let r = await this.attempt('withdraw', run);
    if ((r.ok && this.chance(0.2)) || (!r.ok && r.code === 'crash')) {
      this.fault('duplicate_request');
      const again = await this.attempt('withdraw retry', run);
      this.log(`withdraw retry (same key) → ${again.ok ? (again.value.replayed ? 'replayed' : 'posted') : again.code}`);
      if (r.ok && again.ok && (!again.value.replayed || again.value.payout.id !== r.value.payout.id)) {
        this.seen.push({
          invariant: 'idempotency: a retried withdrawal under the same key took the money again',
          detail: { key, first: r.value.payout.id, retry: again.value.payout.id },
        });
      }
      if (!r.ok) r = again;
      else if (again.ok && again.value.payout.id !== r.value.payout.id) {
        this.world.payouts.push({ id: again.value.payout.id, owner, destination, amount });
      }
    }
    this.log(`withdraw ${owner.name} ${amount} → ${r.ok ? r.value.payout.id.slice(0, 10) : r.code}`);
    if (r.ok && !this.world.payouts.some((p) => p.id === r.value.payout.id)) {
      this.world.payouts.push({ id: r.value.payout.id, owner, destination, amount });
    }
  }

  async stake() {
    const a = this.pick(this.world.accounts)!;
    const node = this.pick(this.world.nodes)!;
    const amount = 1_000_000 * (1 + this.int(30));
    const key = `delegate:${a.account.accountId}:${this.key('stake')}`;
    const run = () =>
      addStake(
        this.world.db,
        this.world.config,
        {
          accountId: a.account.accountId,
          wallet: a.account.wallet,
          nodeId: node.agent.nodeId,
          amount,
          idempotencyKey: key,
          as: 'delegator',
        },
        this.world.now,
      );
    const r = await this.attempt('delegate', run);
    this.log(`${a.name} delegates ${amount} to ${node.name} → ${r.ok ? 'ok' : r.code}`);
    if (r.ok) this.world.stakes.push({ account: a, node, amount });
  }

  async unstakeSome() {
    const s = this.pick(this.world.stakes);
    if (!s) return;
    const amount = Math.max(1, Math.floor(s.amount * (this.chance(0.5) ? 1 : this.random())));
    const key = `unstake:${s.account.account.accountId}:${this.key('unstake')}`;
    const r = await this.attempt('unstake', () =>
      unstake(
        this.world.db,
        this.world.config,
        { accountId: s.account.account.accountId, nodeId: s.node.agent.nodeId, amount, idempotencyKey: key },
        this.world.now,
      ),
    );
    this.log(`${s.account.name} unstakes ${amount} from ${s.node.name} → ${r.ok ? 'ok' : r.code}`);
    if (r.ok) {
      s.amount -= amount;
      if (s.amount <= 0) this.world.stakes.splice(this.world.stakes.indexOf(s), 1);
    }
  }

  /** A cron tick at the simulated time (maybe skewed), maybe crashing, maybe overlapping another. */
  async cron(why = 'tick') {
    const h0 = performance.now();
    await heartbeatAlive(this.world);
    this.opMs['cron.heartbeats'] = (this.opMs['cron.heartbeats'] ?? 0) + Math.round(performance.now() - h0);
    const skew = why === 'tick' && this.chance(0.15) ? (this.int(2) === 0 ? -1 : 1) * (1 + this.int(20)) * 1000 : 0;
    if (skew) this.fault('clock_skew');
    if (why === 'tick' && this.rpcTimeouts < MAX_RPC_TIMEOUTS && this.chance(0.2)) {
      const queued = await this.world.env.DB.prepare(`SELECT id, destination FROM payouts WHERE status = 'queued' LIMIT 1`).first<{
        id: string;
        destination: string;
      }>();
      if (queued) {
        // The payout's transaction lands on chain, and the RPC's answer never comes.
        const ata = await chainControl<string>('tokenAccount', { owner: queued.destination });
        await chainControl('timeoutNextSend', { account: ata });
        this.rpcTimeouts++;
        this.fault('rpc_timeout_after_send');
        this.log(`rpc: the send of payout ${queued.id.slice(0, 10)} will land and time out`);
      }
    }
    const at = this.world.now + skew;
    if (why === 'tick' && this.chance(0.1)) {
      this.fault('overlapping_cron');
      await Promise.all([this.scheduled(at), this.scheduled(at)]);
      this.log(`two overlapping crons at ${skew ? `skew ${skew / 1000}s` : 'now'}`);
      return;
    }
    if (why === 'tick' && this.chance(this.crashRate)) {
      this.world.faulty.arm(1 + this.int(12));
      await this.scheduled(at);
      const crashed = this.world.faulty.crashed !== null;
      this.world.faulty.disarm();
      if (crashed) {
        this.fault('crash');
        this.log('cron: CRASH mid-tick; the next tick recovers');
        await this.scheduled(at);
        return;
      }
    } else {
      await this.scheduled(at);
    }
    this.log(`cron ${why}${skew ? ` (skew ${skew / 1000}s)` : ''}`);
  }

  private rpcTimeouts = 0;

  async scheduled(at: number) {
    const s0 = performance.now();
    const pending: Promise<unknown>[] = [];
    const ctx = {
      waitUntil: (p: Promise<unknown>) => void pending.push(p),
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext;
    try {
      await worker.scheduled!({ cron: '* * * * *', scheduledTime: at, noRetry() {} } as ScheduledController, this.world.env, ctx);
    } catch {
      // A failed step is logged by the handler; the invariants decide whether it mattered.
    }
    await Promise.allSettled(pending);
    this.opMs['cron.scheduled'] = (this.opMs['cron.scheduled'] ?? 0) + Math.round(performance.now() - s0);
  }

  advance() {
    // Mostly seconds; sometimes minutes (deadlines pass, jobs overrun, epochs end).
    const s = this.chance(0.08) ? 60 + this.int(400) : 1 + this.int(15);
    this.world.now += s * 1000;
  }

  async runStep(i: number): Promise<Violation[]> {
    this.step = i;
    this.advance();
    // 0–99 as before the endpoints came; 100–119: an endpoint operation.
    const roll = this.int(120);
    const op =
      roll >= 100
        ? 'endpoint'
        : roll < 6
          ? 'faucet'
          : roll < 22
            ? 'submit'
            : roll < 52
              ? 'agent'
              : roll < 56
                ? 'cancel'
                : roll < 60
                  ? 'node'
                  : roll < 68
                    ? 'deposit'
                    : roll < 71
                      ? 'release'
                      : roll < 78
                        ? 'withdraw'
                        : roll < 82
                          ? 'stake'
                          : roll < 88
                            ? 'unstake'
                            : 'cron';
    this.ops[op] = (this.ops[op] ?? 0) + 1;
    const t0 = performance.now();
    switch (op) {
      case 'faucet':
        await this.faucet();
        break;
      case 'submit':
        await this.submit();
        break;
      case 'agent':
        await this.agentEvent();
        break;
      case 'cancel':
        await this.cancel();
        break;
      case 'node':
        await this.nodeLifecycle();
        break;
      case 'deposit':
        await this.deposit();
        break;
      case 'release':
        await this.releaseLag();
        break;
      case 'withdraw':
        await this.withdraw();
        break;
      case 'stake':
        await this.stake();
        break;
      case 'unstake':
        await this.unstakeSome();
        break;
      case 'endpoint':
        await this.endpoints.step();
        break;
      default:
        await this.cron();
    }
    const t1 = performance.now();
    const violations = [...this.seen.splice(0), ...(await checkInvariants(this.world))];
    if (op === 'cron') violations.push(...(await payoutsOnChain(this.world)));
    this.opMs[op] = (this.opMs[op] ?? 0) + Math.round(t1 - t0);
    this.opMs.invariants = (this.opMs.invariants ?? 0) + Math.round(performance.now() - t1);
    return violations;
  }

  /**
   * The end of a seed: the faults stop (finality released, nodes back, no crashes), time runs on
   * and the cron ticks until every job, payout and deposit has settled; then the final checks,
   * which also demand that every good deposit was credited and every payout paid or refunded.
   */
  async quiesce(): Promise<Violation[]> {
    this.step = -1;
    for (const ref of this.world.held) await chainControl('releaseFinality', { account: ref });
    this.world.held.clear();
    for (const d of this.world.deposits) d.held = false;
    for (const n of this.world.nodes) n.alive = true;
    for (let tick = 0; tick < 12; tick++) {
      this.world.now += 120_000;
      await this.scheduled(this.world.now);
      const open = await this.world.env.DB.prepare(
        `SELECT (SELECT count(*) FROM payouts WHERE status IN ('queued', 'batched')) + (SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired'))
           + (SELECT count(*) FROM epochs WHERE status = 'closing')
           + (SELECT count(*) FROM endpoints e WHERE e.status <> 'active' AND (EXISTS (SELECT 1 FROM endpoint_replicas r WHERE r.endpoint_id = e.id AND r.stopped_at IS NULL)
                OR (SELECT balance FROM accounts WHERE id = 'escrow:' || e.id) > 0)) AS n`,
      ).first<{ n: number }>();
      if (open?.n === 0) break;
    }
    // The cron scans a reference until it expires; one more pass over each makes the final check strict.
    for (const ref of this.world.deposits) {
      const row = await findReference(this.world.db, ref.owner.account.accountId, ref.reference);
      if (row) await scanAndRecord(this.world.db, this.world.settlement, row, this.world.now);
    }
    this.log(`quiesced (${await this.endpoints.summary()})`);
    const violations = await checkInvariants(this.world, { final: true });
    violations.push(...(await payoutsOnChain(this.world, { final: true })));
    const left = await this.world.env.DB.prepare(
      `SELECT (SELECT count(*) FROM payouts WHERE status IN ('queued', 'batched')) AS payouts,
              (SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')) AS jobs`,
    ).first<{ payouts: number; jobs: number }>();
    if (left && (left.payouts > 0 || left.jobs > 0))
      violations.push({ invariant: 'liveness: work left open after the faults stopped', detail: left });
    return violations;
  }
}

/** Runs one seed; never throws for a violation (the result carries it), only for a broken harness. */
export async function runSeed(seed: number, options: SimOptions): Promise<SimResult> {
  const started = performance.now();
  const random = seededRandom(seed);
  const world = await buildWorld(seed, random);
  const built = performance.now();
  let stepped = built;
  const sim = new Sim(world, random, options.crashRate ?? 0.15);
  const restore = quietConsole(sim.loggedErrors);
  let violations: Violation[] = [];
  let steps = 0;
  try {
    for (let i = 1; i <= options.steps && violations.length === 0; i++) {
      violations = await sim.runStep(i);
      steps = i;
    }
    stepped = performance.now();
    if (violations.length === 0) violations = await sim.quiesce();
  } catch (error) {
    violations = [
      {
        invariant: 'harness: an operation threw an unexpected error',
        detail: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error),
      },
    ];
  } finally {
    restore();
  }
  return {
    seed,
    steps,
    ok: violations.length === 0,
    violations,
    trace: sim.trace.slice(-TRACE_TAIL),
    faults: sim.faults,
    ops: sim.ops,
    opMs: sim.opMs,
    loggedErrors: sim.loggedErrors.slice(-20),
    ms: performance.now() - started,
    phases: {
      setupMs: Math.round(built - started),
      stepsMs: Math.round(stepped - built),
      quiesceMs: Math.round(performance.now() - stepped),
    },
  };
}

/**
 * The system logs every failed cron step and RPC hiccup; under injected faults that is hundreds
 * of lines. They are kept (those not caused by an injected crash) for the report instead.
 */
function quietConsole(sink: string[]): () => void {
  const saved = { error: console.error, warn: console.warn, log: console.log };
  const keep = (...args: unknown[]) => {
    if (args.some((a) => isSimCrash(a))) return;
    const text = args
      .map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : JSON.stringify(a)))
      .join(' ');
    if (/sim: crashed before D1 write|cron steps failed/.test(text)) return;
    sink.push(text.slice(0, 300));
  };
  console.error = keep;
  console.warn = keep;
  console.log = () => {};
  return () => Object.assign(console, saved);
}

/** A failure as a reader needs it: the seed, what broke, and the steps that led there. */
export function describeFailure(r: SimResult): string {
  return [
    // Also printed for a replay that passed (sim.test.ts): then its header must say so.
    r.ok
      ? `simulation seed ${r.seed} kept every invariant through ${r.steps} steps`
      : `simulation seed ${r.seed} failed after ${r.steps} steps`,
    `replay: SIM_SEED=${r.seed} SIM_STEPS=${r.steps} npm run sim`,
    'violations:',
    ...r.violations.map((v) => `  - ${v.invariant}: ${JSON.stringify(v.detail)}`),
    `trace (last ${r.trace.length} lines):`,
    ...r.trace.map((l) => `  ${l}`),
    ...(r.loggedErrors.length > 0 ? ['errors the system logged:', ...r.loggedErrors.map((l) => `  ${l}`)] : []),
  ].join('\n');
}

export type { SimJob, SimNode };
