import { formatAmount } from '../../lib/amounts.ts';
import { h } from '../pages/html.ts';
import { notYet, scrollTable, section } from '../pages/parts.ts';
import { formatDuration, formatInt, formatTime, formatTokens } from '../pages/format.ts';
import { definePanel, type RunnablePanel } from './panel.ts';
import { rows, shortId } from './panel-sql.ts';

// The node page's panels, in page order. Each is given the node id and reads only that node's
// rows, through the per-node indexes, with a LIMIT. Nothing a renter sent (image, command, env,
// account) is read here: a node's public page shows what the node did, not who rented it.

export const CHECKS_SHOWN = 10;
export const STAKERS_SHOWN = 20;
export const JOBS_SHOWN = 10;
export const REWARD_EPOCHS_SHOWN = 12;

interface Check {
  reason: string;
  status: string;
  issued_at: number;
  answered_at: number | null;
  failure: string | null;
}

export const nodeVerificationPanel = definePanel<{ checks: Check[] }, string>({
  id: 'verification',
  load: async (ctx, nodeId) => ({
    checks: await rows<Check>(
      ctx.db,
      `SELECT reason, status, issued_at, answered_at, failure FROM challenges WHERE node_id = ?1 ORDER BY issued_at DESC LIMIT ?2`,
      nodeId,
      CHECKS_SHOWN,
    ),
  }),
  section: (d) =>
    section(
      'verification',
      'Verification',
      d.checks.length === 0
        ? notYet('No verification checks yet: uptime above is measured from heartbeats the control plane received.')
        : scrollTable(
            'Verification checks',
            h`<table><caption>Latest hardware checks</caption><thead><tr><th scope="col">Issued</th><th scope="col">Reason</th><th scope="col">Outcome</th><th scope="col">Answered</th></tr></thead>
<tbody>${d.checks.map(
              (c) =>
                h`<tr><th scope="row">${formatTime(c.issued_at)}</th><td>${c.reason}</td><td>${c.status}${c.failure ? h` (${c.failure})` : null}</td><td>${c.answered_at === null ? '—' : formatTime(c.answered_at)}</td></tr>`,
            )}</tbody></table>`,
          ),
    ),
});

interface StakeData {
  total: string;
  stakers: number;
  top: { account: string; amount: string }[];
}

export const nodeStakePanel = definePanel<StakeData, string>({
  id: 'stake',
  load: async (ctx, nodeId) => {
    const d = ctx.config.TOKEN_DECIMALS;
    const [totals, top] = await ctx.db.$client.batch<Record<string, number | string>>([
      ctx.db.$client
        .prepare(`SELECT coalesce(sum(amount), 0) AS total, count(*) AS stakers FROM stakes WHERE node_id = ?1 AND amount > 0`)
        .bind(nodeId),
      ctx.db.$client
        .prepare(`SELECT account_id, amount FROM stakes WHERE node_id = ?1 AND amount > 0 ORDER BY amount DESC, account_id LIMIT ?2`)
        .bind(nodeId, STAKERS_SHOWN),
    ]);
    const t = (totals?.results[0] ?? { total: 0, stakers: 0 }) as { total: number; stakers: number };
    return {
      total: formatAmount(t.total, d),
      stakers: t.stakers,
      top: ((top?.results ?? []) as { account_id: string; amount: number }[]).map((r) => ({
        account: shortId(r.account_id),
        amount: formatAmount(r.amount, d),
      })),
    };
  },
  section: (d) =>
    section(
      'stake',
      'Stake and stakers',
      d.stakers === 0
        ? notYet('No stake is bonded on this node.')
        : h`<p>${formatTokens(d.total)} tokens bonded by ${formatInt(d.stakers)} ${d.stakers === 1 ? 'staker' : 'stakers'}.</p>${scrollTable(
            'Stakers',
            h`<table><caption>Largest stakers</caption><thead><tr><th scope="col">Account</th><th scope="col">Stake</th></tr></thead>
<tbody>${d.top.map((s) => h`<tr><th scope="row"><code>${s.account}</code></th><td class="n">${formatTokens(s.amount)}</td></tr>`)}</tbody></table>`,
          )}`,
    ),
});

interface JobRow {
  id: string;
  status: string;
  gpu_count: number;
  started_at: number | null;
  finished_at: number | null;
}

export const nodeJobsPanel = definePanel<{ jobs: JobRow[]; nowMs: number }, string>({
  id: 'recent-jobs',
  load: async (ctx, nodeId) => ({
    // Public columns only; the (node_id, status) index narrows to this node's jobs.
    jobs: await rows<JobRow>(
      ctx.db,
      `SELECT id, status, gpu_count, started_at, finished_at FROM jobs WHERE node_id = ?1 ORDER BY updated_at DESC LIMIT ?2`,
      nodeId,
      JOBS_SHOWN,
    ),
    nowMs: ctx.nowMs,
  }),
  section: (d) =>
    section(
      'recent-jobs',
      'Recent jobs',
      d.jobs.length === 0
        ? notYet('No jobs yet.')
        : scrollTable(
            'Recent jobs',
            h`<table><caption>Latest jobs on this node</caption><thead><tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">GPUs</th><th scope="col">Duration</th><th scope="col">Finished</th></tr></thead>
<tbody>${d.jobs.map(
              (j) =>
                h`<tr><th scope="row"><code>${j.id.slice(0, 8)}</code></th><td>${j.status}</td><td class="n">${j.gpu_count}</td><td class="n">${
                  j.started_at === null ? '—' : formatDuration((j.finished_at ?? d.nowMs) - j.started_at)
                }</td><td>${j.finished_at === null ? '—' : formatTime(j.finished_at)}</td></tr>`,
            )}</tbody></table>`,
          ),
    ),
});

interface RewardPoint {
  epoch: number;
  capacity: string;
  work: string;
  slashed: string;
  net: string;
}

export const nodeRewardsPanel = definePanel<{ epochs: RewardPoint[] }, string>({
  id: 'rewards',
  load: async (ctx, nodeId) => {
    const d = ctx.config.TOKEN_DECIMALS;
    const found = await rows<{ epoch: number; capacity_reward: number; work_reward: number; slashed_reward: number; net_reward: number }>(
      ctx.db,
      `SELECT n.epoch, n.capacity_reward, n.work_reward, n.slashed_reward, n.net_reward FROM epoch_nodes n JOIN epochs e ON e.epoch = n.epoch
       WHERE n.node_id = ?1 AND e.status = 'closed' ORDER BY n.epoch DESC LIMIT ?2`,
      nodeId,
      REWARD_EPOCHS_SHOWN,
    );
    return {
      epochs: found.map((r) => ({
        epoch: r.epoch,
        capacity: formatAmount(r.capacity_reward, d),
        work: formatAmount(r.work_reward, d),
        slashed: formatAmount(r.slashed_reward, d),
        net: formatAmount(r.net_reward, d),
      })),
    };
  },
  section: (d) =>
    section(
      'rewards',
      'Rewards per epoch',
      d.epochs.length === 0
        ? notYet('No rewards yet: this node has not been part of a closed epoch.')
        : scrollTable(
            'Rewards per epoch',
            h`<table><caption>Tokens earned by this node's stakers per epoch</caption><thead><tr><th scope="col">Epoch</th><th scope="col">Capacity</th><th scope="col">Work</th><th scope="col">Slashed</th><th scope="col">Net</th></tr></thead>
<tbody>${d.epochs.map(
              (e) =>
                h`<tr><th scope="row">${e.epoch}</th><td class="n">${formatTokens(e.capacity)}</td><td class="n">${formatTokens(e.work)}</td><td class="n">${formatTokens(e.slashed)}</td><td class="n">${formatTokens(e.net)}</td></tr>`,
            )}</tbody></table>`,
          ),
    ),
});

export const nodePanels: readonly RunnablePanel<string>[] = [nodeVerificationPanel, nodeStakePanel, nodeJobsPanel, nodeRewardsPanel];
