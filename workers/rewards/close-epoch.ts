import { epochs, type EpochStep } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import type { AlertQueueEnv } from '../alerts/emit-alert.ts';
import { SYSTEM_ACCOUNTS } from '../ledger/ledger-accounts.ts';
import { bulkTransactionStatements } from '../ledger/bulk-postings.ts';
import { violatedConstraint } from '../ledger/ledger-errors.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';
import { randomId } from '../lib/ids.ts';
import { GPU_CATALOG } from '../../protocol/gpu-catalog.ts';
import { applySlash } from '../slashing/apply-slash.ts';
import { allocateRewardTake } from '../slashing/slash-plan.ts';
import { assertChanged, assertChangedExactly } from '../ledger/sql-assert.ts';
import { STAKING_ACCOUNTS } from '../staking/staking-accounts.ts';
import { expireChallenges, issueRandomChallenges } from '../verification/challenges.repo.ts';
import { getParams } from '../governance/params.repo.ts';
import { epochBounds, epochAt, epochMs } from '../lib/epoch-clock.ts';
import { computeEpochRewards, epochPools, type RewardNode } from './epoch-rewards.ts';
import { epochEmission, epochsPerYear } from './emission.ts';
import { splitFees } from './fee-split.ts';
import { workServedInEpoch, type WorkSource } from './work-served.ts';

// Closing an epoch, resumably (workers/rewards/README.md). The `epochs` row holds the step and
// a cursor; every step ends with a compare-and-swap of that row in the same D1 batch as its
// effects, and every ledger posting has a key derived from the epoch, so a second cron, a crash
// or a retry at any point repeats nothing and loses nothing:
//
//   snapshot   one batch: the epochs row (its PRIMARY KEY lets only one close begin, and it
//              keeps the governed work-fee multiple), eligible nodes' uptime, GPU weight, work
//              and the fees it paid frozen into epoch_nodes, bonded stake into
//              epoch_stakes, pending slashes claimed, commission changes applied
//   compute    reads the frozen inputs, runs the pure arithmetic (epoch-rewards.ts), writes
//              results, then mints the epoch's rewards into system:reward_pool (`epoch:<n>:mint`)
//   slash      each claimed slash: from the node's reward first, then its stake (apply-slash.ts)
//   post       one bulk `reward` transaction per chunk of credits (`epoch:<n>:rewards:<chunk>`)
//   fees       system:fees at the snapshot → burned and community treasury (`epoch:<n>:fees`)
//   release    unbondings due by the epoch's end → their owners (`epoch:<n>:release:<first id>`)
//   challenges expired challenges fail; a random share of eligible nodes is challenged
//
// Statement counts are set-based: a handful per step plus one per CLOSE_CHUNK_ROWS rows, so an
// epoch of 100,000 nodes fits the platform's 1,000 queries per invocation (see the bench);
// when CLOSE_QUERY_BUDGET runs out the next cron invocation resumes where this one stopped.

export interface CloseOptions {
  nowMs: number;
  workSource?: WorkSource;
  /** Overrides CLOSE_QUERY_BUDGET. */
  budget?: number;
  /** Called before every D1 round trip; a test throws from it to crash the close at that point. */
  beforeQuery?: (step: EpochStep | 'select', spent: number) => void;
  /** Where operator alerts go (expired challenges); none in benches. */
  alerts?: AlertQueueEnv;
}

export interface CloseReport {
  /** Epochs fully closed by this call. */
  closed: number[];
  /** The epoch left in progress, if any, and its step. */
  inProgress: { epoch: number; step: EpochStep } | null;
  /** D1 statements this call spent. */
  queries: number;
}

type EpochRow = typeof epochs.$inferSelect;

class OutOfBudget extends Error {}

/** Counts every statement against the invocation's budget. */
class Exec {
  spent = 0;
  step: EpochStep | 'select' = 'select';
  constructor(
    readonly db: Db,
    readonly budget: number,
    private readonly beforeQuery?: CloseOptions['beforeQuery'],
  ) {}
  left(): number {
    return this.budget - this.spent;
  }
  need(statements: number): void {
    if (statements > this.left()) throw new OutOfBudget();
  }
  charge(statements: number): void {
    this.need(statements);
    this.beforeQuery?.(this.step, this.spent);
    this.spent += statements;
  }
  async all<T>(statement: D1PreparedStatement): Promise<T[]> {
    this.charge(1);
    return (await statement.all<T>()).results;
  }
  async first<T>(statement: D1PreparedStatement): Promise<T | null> {
    this.charge(1);
    return statement.first<T>();
  }
  async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    if (statements.length === 0) return [];
    this.charge(statements.length);
    return this.db.$client.batch(statements);
  }
}

const STEP_RESERVE = 12;

export async function closeDueEpochs(db: Db, config: Config, options: CloseOptions): Promise<CloseReport> {
  const exec = new Exec(db, options.budget ?? config.CLOSE_QUERY_BUDGET, options.beforeQuery);
  const report: CloseReport = { closed: [], inProgress: null, queries: 0 };
  const touched = new Map<number, number>();
  try {
    while (exec.left() > STEP_RESERVE) {
      exec.step = 'select';
      const before = exec.spent;
      const row = await nextEpoch(exec, config, options);
      if (!row) break;
      exec.step = row.step;
      const done = await runStep(exec, config, options, row);
      touched.set(row.epoch, (touched.get(row.epoch) ?? 0) + exec.spent - before);
      if (done) report.closed.push(row.epoch);
    }
  } catch (error) {
    if (!(error instanceof OutOfBudget)) throw error;
  } finally {
    report.queries = exec.spent;
  }
  // Bookkeeping of what each run cost; outside the budget (one statement per epoch touched).
  for (const [epoch, queries] of touched) {
    await db.$client.prepare('UPDATE epochs SET queries = queries + ?2, runs = runs + 1 WHERE epoch = ?1').bind(epoch, queries).run();
    report.queries++;
  }
  const open = await db.$client.prepare(`SELECT epoch, step FROM epochs WHERE status = 'closing' ORDER BY epoch LIMIT 1`).first<{ epoch: number; step: EpochStep }>();
  report.inProgress = open;
  return report;
}

/** The epoch to work on: the one closing, or the next one that has ended (then its snapshot). */
async function nextEpoch(exec: Exec, config: Config, options: CloseOptions): Promise<EpochRow | null> {
  const row = await exec.first<{ open: string | null; last: number | null; carry: number | null }>(
    exec.db.$client.prepare(
      `SELECT (SELECT json_object('epoch', epoch) FROM epochs WHERE status = 'closing' ORDER BY epoch LIMIT 1) AS open,
              (SELECT max(epoch) FROM epochs) AS last,
              (SELECT carry_out FROM epochs WHERE epoch = (SELECT max(epoch) FROM epochs)) AS carry`,
    ),
  );
  if (row?.open) {
    const { epoch } = JSON.parse(row.open) as { epoch: number };
    return exec.first<EpochRow>(exec.db.$client.prepare(EPOCH_ROW_SQL).bind(epoch));
  }
  const due = epochAt(config, options.nowMs) - 1;
  const next = row?.last === null || row?.last === undefined ? due : row.last + 1;
  if (next > due || next < 0) return null;
  exec.step = 'snapshot';
  await snapshot(exec, config, options, next, BigInt(row?.carry ?? 0));
  return exec.first<EpochRow>(exec.db.$client.prepare(EPOCH_ROW_SQL).bind(next));
}

const EPOCH_ROW_SQL = `SELECT epoch, status, step, cursor, start_ms AS startMs, end_ms AS endMs, emission, carry_in AS carryIn, minted,
  carry_out AS carryOut, capacity_pool AS capacityPool, work_pool AS workPool, fees, burned, work_fee_multiple_bps AS workFeeMultipleBps,
  nodes, credit_chunks AS creditChunks, queries, runs, started_at AS startedAt, closed_at AS closedAt FROM epochs WHERE epoch = ?1`;

async function runStep(exec: Exec, config: Config, options: CloseOptions, row: EpochRow): Promise<boolean> {
  switch (row.step) {
    case 'snapshot':
      return false; // written whole by nextEpoch; a row never rests here
    case 'compute':
      await compute(exec, config, row);
      return false;
    case 'slash':
      await slash(exec, config, options, row);
      return false;
    case 'post':
      await post(exec, row, options.nowMs);
      return false;
    case 'fees':
      await fees(exec, config, row, options.nowMs);
      return false;
    case 'release':
      await release(exec, config, row, options.nowMs);
      return false;
    case 'challenges':
      await challenges(exec, config, row, options.nowMs, options.alerts);
      return true;
    case 'done':
      return false;
  }
}

/** Moves the epoch to `to` only if it is still at `from` (and cursor): a lost race aborts the batch. */
function advance(exec: Exec, row: EpochRow, to: EpochStep, set = '', params: unknown[] = []): D1PreparedStatement[] {
  const status = to === 'done' ? 'closed' : 'closing';
  return [
    exec.db.$client
      .prepare(
        `UPDATE epochs SET step = ?3, cursor = 0, status = ?4 ${set} WHERE epoch = ?1 AND step = ?2 AND cursor = ?5`,
      )
      .bind(row.epoch, row.step, to, status, row.cursor, ...params),
    assertChanged(exec.db.$client, 'epoch_moved'),
  ];
}

const CATALOG_WEIGHTS = JSON.stringify(Object.fromEntries(GPU_CATALOG.map((g) => [g.name, Math.round(g.rewardWeight * 1000)])));

async function snapshot(exec: Exec, config: Config, options: CloseOptions, epoch: number, carryIn: bigint): Promise<void> {
  const { startMs, endMs } = epochBounds(config, epoch);
  exec.charge(1);
  const work = (await (options.workSource ?? workServedInEpoch)(exec.db, { startMs, endMs })).filter((w) => w.gpuSeconds > 0 || w.fees > 0);
  exec.charge(1);
  const workFeeMultipleBps = (await getParams(exec.db, config, options.nowMs)).work_reward_fee_multiple_bps;
  const schedule = {
    total: BigInt(config.EMISSION_TOTAL_TOKENS) * 10n ** BigInt(config.TOKEN_DECIMALS),
    releaseBps: config.EMISSION_YEARLY_RELEASE_BPS,
    epochsPerYear: epochsPerYear(config.EPOCH_SECONDS),
  };
  const emission = epochEmission(schedule, epoch);
  const pools = epochPools(emission, carryIn, config.REWARD_WORK_SHARE_BPS);
  const db = exec.db.$client;
  const now = options.nowMs;
  const chunk = config.CLOSE_CHUNK_ROWS;
  const workUpdates: D1PreparedStatement[] = [];
  for (let i = 0; i < work.length; i += chunk) {
    workUpdates.push(
      db
        .prepare(
          // Only nodes already in the snapshot (eligible ones) take work; upsert for the same reason as in compute.
          `INSERT INTO epoch_nodes (epoch, node_id, uptime_ms, weight_milli, geo_cell, commission_bps, gpu_seconds, work_fees)
           SELECT ?1, value ->> 'n', 0, 0, '', 0, value ->> 's', value ->> 'f' FROM json_each(?2)
           WHERE EXISTS (SELECT 1 FROM epoch_nodes e WHERE e.epoch = ?1 AND e.node_id = value ->> 'n')
           ON CONFLICT (epoch, node_id) DO UPDATE SET gpu_seconds = excluded.gpu_seconds, work_fees = excluded.work_fees`,
        )
        .bind(epoch, JSON.stringify(work.slice(i, i + chunk).map((w) => ({ n: w.nodeId, s: w.gpuSeconds, f: w.fees })))),
    );
  }
  try {
    await exec.batch([
      db
        .prepare(
          `INSERT INTO epochs (epoch, status, step, cursor, start_ms, end_ms, emission, carry_in, capacity_pool, work_pool, fees, started_at, work_fee_multiple_bps)
           VALUES (?1, 'closing', 'compute', 0, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT balance FROM accounts WHERE id = ?8), ?9, ?10)`,
        )
        .bind(epoch, startMs, endMs, Number(emission), Number(carryIn), Number(pools.capacityPool), Number(pools.workPool), SYSTEM_ACCOUNTS.fees, now, workFeeMultipleBps),
      db
        .prepare(`INSERT INTO node_staking (node_id, commission_bps, reward_online_ms, updated_at) SELECT id, ?1, 0, ?2 FROM nodes WHERE true ON CONFLICT (node_id) DO NOTHING`)
        .bind(config.COMMISSION_DEFAULT_BPS, now),
      db
        .prepare(
          `UPDATE node_staking SET commission_bps = next_commission_bps, next_commission_bps = NULL, next_commission_epoch = NULL, updated_at = ?2
           WHERE next_commission_epoch <= ?1`,
        )
        .bind(epoch, now),
      // An eligible node's owner without an account gets one, so its rewards have somewhere to go.
      db
        .prepare(
          `INSERT INTO accounts (id, kind, wallet, balance, created_at, updated_at)
           SELECT 'acc_' || lower(hex(randomblob(16))), 'user', owner, 0, ?1, ?1 FROM (SELECT DISTINCT owner FROM nodes WHERE eligible = 1)
           WHERE true ON CONFLICT DO NOTHING`,
        )
        .bind(now),
      db
        .prepare(
          `INSERT INTO epoch_nodes (epoch, node_id, operator_account, uptime_ms, weight_milli, geo_cell, commission_bps)
           SELECT ?1, n.id, a.id, min(?2, max(0, n.online_ms - ns.reward_online_ms)),
                  COALESCE((SELECT SUM(g.count * w.value) FROM node_gpus g JOIN json_each(?3) w ON w.key = g.canonical_model WHERE g.node_id = n.id), 0),
                  n.geo_cell, ns.commission_bps
           FROM nodes n JOIN node_staking ns ON ns.node_id = n.id JOIN accounts a ON a.wallet = n.owner
           WHERE n.eligible = 1`,
        )
        .bind(epoch, epochMs(config), CATALOG_WEIGHTS),
      // Uptime while not eligible does not pile up for later: every node's baseline moves.
      db.prepare(
        `UPDATE node_staking SET reward_online_ms = n.online_ms FROM nodes n
         WHERE n.id = node_staking.node_id AND node_staking.reward_online_ms <> n.online_ms`,
      ),
      ...workUpdates,
      db
        .prepare(
          `INSERT INTO epoch_stakes (epoch, node_id, account_id, amount)
           SELECT ?1, s.node_id, s.account_id, s.amount FROM epoch_nodes en JOIN stakes s ON s.node_id = en.node_id
           WHERE en.epoch = ?1 AND s.amount > 0`,
        )
        .bind(epoch),
      db.prepare(`UPDATE slashes SET epoch = ?1 WHERE status = 'pending' AND epoch IS NULL`).bind(epoch),
      db.prepare('UPDATE epochs SET nodes = (SELECT count(*) FROM epoch_nodes WHERE epoch = ?1) WHERE epoch = ?1').bind(epoch),
    ]);
  } catch (error) {
    // Another invocation began this epoch first: its snapshot stands, ours is rolled back.
    if (!/UNIQUE constraint failed: epochs\.epoch/.test(messages(error))) throw error;
  }
}

async function compute(exec: Exec, config: Config, row: EpochRow): Promise<void> {
  const db = exec.db.$client;
  const read = config.CLOSE_CHUNK_ROWS * 4;
  const nodes: (RewardNode & { slashDue: bigint })[] = [];
  for (let after = ''; ; ) {
    const page = await exec.all<{ node_id: string; operator_account: string; uptime_ms: number; weight_milli: number; geo_cell: string; gpu_seconds: number; work_fees: number; commission_bps: number }>(
      db
        .prepare(
          `SELECT node_id, operator_account, uptime_ms, weight_milli, geo_cell, gpu_seconds, work_fees, commission_bps FROM epoch_nodes
           WHERE epoch = ?1 AND node_id > ?2 ORDER BY node_id LIMIT ?3`,
        )
        .bind(row.epoch, after, read),
    );
    for (const r of page) {
      nodes.push({ nodeId: r.node_id, operatorAccount: r.operator_account, uptimeMs: r.uptime_ms, weightMilli: r.weight_milli, geoCell: r.geo_cell, gpuSeconds: r.gpu_seconds, workFees: r.work_fees, commissionBps: r.commission_bps, slashDue: 0n });
    }
    if (page.length < read) break;
    after = page.at(-1)!.node_id;
  }
  const stakes: { nodeId: string; accountId: string; amount: bigint }[] = [];
  for (let after = JSON.stringify(['', '']); ; ) {
    const [n, a] = JSON.parse(after) as [string, string];
    const page = await exec.all<{ node_id: string; account_id: string; amount: number }>(
      db
        .prepare(
          `SELECT node_id, account_id, amount FROM epoch_stakes WHERE epoch = ?1 AND (node_id, account_id) > (?2, ?3)
           ORDER BY node_id, account_id LIMIT ?4`,
        )
        .bind(row.epoch, n, a, read),
    );
    for (const r of page) stakes.push({ nodeId: r.node_id, accountId: r.account_id, amount: BigInt(r.amount) });
    if (page.length < read) break;
    after = JSON.stringify([page.at(-1)!.node_id, page.at(-1)!.account_id]);
  }
  const dues = await exec.all<{ node_id: string; due: number }>(
    db.prepare(`SELECT node_id, SUM(amount) AS due FROM slashes WHERE epoch = ?1 AND status = 'pending' GROUP BY node_id`).bind(row.epoch),
  );
  const dueByNode = new Map(dues.map((d) => [d.node_id, BigInt(d.due)]));
  for (const n of nodes) n.slashDue = dueByNode.get(n.nodeId) ?? 0n;

  const result = computeEpochRewards(
    {
      capacityPool: BigInt(row.capacityPool),
      workPool: BigInt(row.workPool),
      epochMs: epochMs(config),
      regionTargetNodes: config.REGION_TARGET_NODES,
      regionMaxBonusBps: config.REGION_MAX_BONUS_BPS,
      // Frozen at the snapshot; an epoch snapshotted before the column existed uses the configured default.
      workFeeMultipleBps: row.workFeeMultipleBps ?? config.WORK_REWARD_FEE_MULTIPLE_BPS,
    },
    nodes,
    stakes,
  );

  const chunk = config.CLOSE_CHUNK_ROWS;
  const writes: D1PreparedStatement[] = [];
  for (let i = 0; i < result.nodes.length; i += chunk) {
    const rows = result.nodes.slice(i, i + chunk).map((r) => [r.nodeId, r.regionBps, Number(r.capacityReward), Number(r.workReward), Number(r.slashedReward), Number(r.netReward)]);
    writes.push(
      db
        .prepare(
          // An upsert driven by the JSON rows (one primary-key probe each); an UPDATE … FROM
          // json_each lets SQLite scan the table once per row, quadratic at this size.
          `INSERT INTO epoch_nodes (epoch, node_id, uptime_ms, weight_milli, geo_cell, commission_bps,
             region_bps, capacity_reward, work_reward, slashed_reward, net_reward)
           SELECT ?1, value ->> '$[0]', 0, 0, '', 0, value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', value ->> '$[4]', value ->> '$[5]'
           FROM json_each(?2) WHERE true
           ON CONFLICT (epoch, node_id) DO UPDATE SET region_bps = excluded.region_bps, capacity_reward = excluded.capacity_reward,
             work_reward = excluded.work_reward, slashed_reward = excluded.slashed_reward, net_reward = excluded.net_reward`,
        )
        .bind(row.epoch, JSON.stringify(rows)),
    );
  }
  for (let i = 0; i < result.shares.length; i += chunk) {
    const rows = result.shares.slice(i, i + chunk).map((s) => [s.nodeId, s.accountId, s.role, Number(s.amount), Number(s.commission)]);
    writes.push(
      db
        .prepare(
          `INSERT OR REPLACE INTO reward_shares (epoch, node_id, account_id, role, amount, commission)
           SELECT ?1, value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', value ->> '$[4]' FROM json_each(?2)`,
        )
        .bind(row.epoch, JSON.stringify(rows)),
    );
  }
  const creditChunks = Math.ceil(result.credits.length / chunk);
  for (let c = 0; c < creditChunks; c++) {
    const rows = result.credits.slice(c * chunk, (c + 1) * chunk).map((x) => [x.accountId, Number(x.amount)]);
    writes.push(
      db
        .prepare(
          `INSERT OR REPLACE INTO epoch_credits (epoch, account_id, chunk, amount)
           SELECT ?1, value ->> '$[0]', ?2, value ->> '$[1]' FROM json_each(?3)`,
        )
        .bind(row.epoch, c, JSON.stringify(rows)),
    );
  }
  exec.need(writes.length + 6);
  // Idempotent writes (same frozen inputs, same results); a crash here is repaired by a rerun.
  for (let i = 0; i < writes.length; i += 8) await exec.batch(writes.slice(i, i + 8));

  const finish = advance(exec, row, 'slash', ', minted = ?6, carry_out = ?7, credit_chunks = ?8', [Number(result.minted), Number(result.carry), creditChunks]);
  if (result.minted === 0n) {
    await guarded(exec.batch(finish));
    return;
  }
  exec.charge(3 + finish.length);
  await guardedPost(
    exec.db,
    {
      kind: 'mint',
      idempotencyKey: `epoch:${row.epoch}:mint`,
      entries: [
        { account: SYSTEM_ACCOUNTS.emission, amount: -result.minted },
        { account: STAKING_ACCOUNTS.rewardPool, amount: result.minted },
      ],
      ref: `epoch:${row.epoch}`,
      memo: 'epoch rewards',
    },
    { with: () => finish },
  );
}

async function slash(exec: Exec, config: Config, options: CloseOptions, row: EpochRow): Promise<void> {
  const db = exec.db.$client;
  const rows = await exec.all<{ id: string; node_id: string; amount: number; status: string; slashed: number }>(
    db
      .prepare(
        `SELECT s.id, s.node_id, s.amount, s.status, COALESCE(en.slashed_reward, 0) AS slashed
         FROM slashes s LEFT JOIN epoch_nodes en ON en.epoch = s.epoch AND en.node_id = s.node_id
         WHERE s.epoch = ?1 AND s.node_id IN (SELECT node_id FROM slashes WHERE epoch = ?1 AND status = 'pending' ORDER BY node_id LIMIT 50)
         ORDER BY s.node_id, s.created_at, s.id`,
      )
      .bind(row.epoch),
  );
  if (rows.length === 0) {
    await guarded(exec.batch(advance(exec, row, 'post')));
    return;
  }
  const byNode = new Map<string, typeof rows>();
  for (const r of rows) byNode.set(r.node_id, [...(byNode.get(r.node_id) ?? []), r]);
  for (const [nodeId, list] of byNode) {
    const fromReward = allocateRewardTake(list.map((s) => ({ id: s.id, amount: BigInt(s.amount) })), BigInt(list[0]!.slashed));
    for (const s of list.filter((x) => x.status === 'pending')) {
      exec.charge(13);
      await applySlash(exec.db, config, { id: s.id, nodeId, amount: s.amount }, fromReward.get(s.id) ?? 0n, row.epoch, options.nowMs);
    }
  }
}

async function post(exec: Exec, row: EpochRow, nowMs: number): Promise<void> {
  const db = exec.db.$client;
  if (row.cursor >= row.creditChunks) {
    await guarded(exec.batch(advance(exec, row, 'fees')));
    return;
  }
  const credits = await exec.all<{ account_id: string; amount: number }>(
    db.prepare('SELECT account_id, amount FROM epoch_credits WHERE epoch = ?1 AND chunk = ?2 ORDER BY account_id').bind(row.epoch, row.cursor),
  );
  const moveCursor = [
    db.prepare('UPDATE epochs SET cursor = cursor + 1 WHERE epoch = ?1 AND step = ?2 AND cursor = ?3').bind(row.epoch, 'post', row.cursor),
    assertChanged(db, 'epoch_moved'),
  ];
  const entries = credits.filter((c) => c.amount > 0).map((c) => ({ account: c.account_id, amount: c.amount }));
  if (entries.length === 0) {
    await guarded(exec.batch(moveCursor));
    return;
  }
  const tx = await bulkTransactionStatements(
    exec.db,
    { kind: 'reward', idempotencyKey: `epoch:${row.epoch}:rewards:${row.cursor}`, counterAccount: STAKING_ACCOUNTS.rewardPool, entries, ref: `epoch:${row.epoch}` },
    randomId('tx'),
    nowMs,
  );
  await guarded(exec.batch([...tx, ...moveCursor]));
}

async function fees(exec: Exec, config: Config, row: EpochRow, nowMs: number): Promise<void> {
  const { burn, treasury } = splitFees(BigInt(row.fees), config.FEE_BURN_BPS);
  const finish = advance(exec, row, 'release', ', burned = ?6', [Number(burn)]);
  if (burn + treasury === 0n) {
    await guarded(exec.batch(finish));
    return;
  }
  exec.charge(3 + finish.length);
  await guardedPost(
    exec.db,
    {
      kind: burn > 0n ? 'burn' : 'fee',
      idempotencyKey: `epoch:${row.epoch}:fees`,
      entries: [
        { account: SYSTEM_ACCOUNTS.fees, amount: -(burn + treasury) },
        ...(burn > 0n ? [{ account: SYSTEM_ACCOUNTS.burn, amount: burn }] : []),
        ...(treasury > 0n ? [{ account: STAKING_ACCOUNTS.community, amount: treasury }] : []),
      ],
      ref: `epoch:${row.epoch}`,
      memo: 'protocol fees: burn and community treasury',
    },
    { now: nowMs, with: () => finish },
  );
}

async function release(exec: Exec, config: Config, row: EpochRow, nowMs: number): Promise<void> {
  const db = exec.db.$client;
  // An unbonding of a node with a pending slash stays put until that slash has been applied
  // (by this close's slash step, or the next close's for one recorded since the snapshot):
  // unstaking must not be a way out of a slash that is already on its way.
  const due = await exec.all<{ id: number; account_id: string; amount: number }>(
    db
      .prepare(
        `SELECT id, account_id, amount FROM unbondings u WHERE status = 'unbonding' AND release_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM slashes s WHERE s.node_id = u.node_id AND s.status = 'pending')
         ORDER BY id LIMIT ?2`,
      )
      .bind(row.endMs, config.CLOSE_CHUNK_ROWS),
  );
  if (due.length === 0) {
    await guarded(exec.batch(advance(exec, row, 'challenges')));
    return;
  }
  const byAccount = new Map<string, number>();
  for (const u of due) byAccount.set(u.account_id, (byAccount.get(u.account_id) ?? 0) + u.amount);
  const entries = [...byAccount].filter(([, a]) => a > 0).map(([account, amount]) => ({ account, amount })).sort((a, b) => (a.account < b.account ? -1 : 1));
  const txId = entries.length > 0 ? randomId('tx') : null;
  // The same guard again in the write: a slash recorded between the read and this batch keeps
  // its node's unbondings, and the changed-row assertion aborts the whole release (read again at once).
  const mark = [
    db
      .prepare(
        `UPDATE unbondings SET status = 'released', released_at = ?2, ledger_tx_id = ?3 WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'unbonding'
           AND NOT EXISTS (SELECT 1 FROM slashes s WHERE s.node_id = unbondings.node_id AND s.status = 'pending')`,
      )
      .bind(JSON.stringify(due.map((u) => u.id)), nowMs, txId),
    // Every row read, or none: the transaction pays for all of them.
    assertChangedExactly(db, 'unbonding_moved', due.length),
  ];
  const tx =
    txId === null
      ? []
      : await bulkTransactionStatements(
          exec.db,
          { kind: 'unstake', idempotencyKey: `epoch:${row.epoch}:release:${due[0]!.id}`, counterAccount: STAKING_ACCOUNTS.unbonding, entries, ref: `epoch:${row.epoch}` },
          txId,
          nowMs,
        );
  await guarded(exec.batch([...tx, ...mark]));
}

async function challenges(exec: Exec, config: Config, row: EpochRow, nowMs: number, alerts: CloseOptions['alerts']): Promise<void> {
  exec.charge(4 + 2);
  await expireChallenges(exec.db, config, nowMs, alerts);
  await issueRandomChallenges(exec.db, config, nowMs, 1000);
  await guarded(exec.batch(advance(exec, row, 'done', ', closed_at = ?6', [nowMs])));
}

/** A batch that lost a race (key used, row moved) changed nothing; the loop re-reads the epoch. */
async function guarded(run: Promise<unknown>): Promise<void> {
  try {
    await run;
  } catch (error) {
    if (violatedConstraint(error) === 'idempotency_key' || /assert:(epoch|unbonding)_moved/.test(messages(error))) return;
    throw error;
  }
}

/** A mint or fee posting whose step another invocation already finished is a no-op here. */
async function guardedPost(...args: Parameters<typeof postTransaction>): Promise<void> {
  await guarded(postTransaction(...args));
}

function messages(error: unknown): string {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) out.push(e.message);
  return out.join(' | ');
}
