import { formatAmount } from '../lib/amounts.ts';

// Wire shapes: amounts as decimal strings (PROTOCOL.md "Amounts"), times as ISO strings.
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function unbondingView(
  row: { id: number; nodeId: string; amount: number; requestedAt: number; releaseAt: number; status: string },
  d: number,
) {
  return {
    id: row.id,
    nodeId: row.nodeId,
    amount: formatAmount(row.amount, d),
    requestedAt: iso(row.requestedAt),
    releaseAt: iso(row.releaseAt),
    status: row.status,
  };
}

export function epochNodeView(
  row: {
    epoch: number;
    nodeId: string;
    uptimeMs: number;
    weightMilli: number;
    regionBps: number;
    gpuSeconds: number;
    workFees: number;
    commissionBps: number;
    capacityReward: number;
    workReward: number;
    slashedReward: number;
    netReward: number;
  },
  d: number,
) {
  return {
    epoch: row.epoch,
    nodeId: row.nodeId,
    uptimeSeconds: Math.floor(row.uptimeMs / 1000),
    gpuWeight: row.weightMilli / 1000,
    regionMultiplier: row.regionBps / 10_000,
    gpuSeconds: row.gpuSeconds,
    /** Protocol fees the node's jobs paid in the epoch: what the work reward follows. */
    workFees: formatAmount(row.workFees, d),
    commissionBps: row.commissionBps,
    capacityReward: formatAmount(row.capacityReward, d),
    workReward: formatAmount(row.workReward, d),
    slashed: formatAmount(row.slashedReward, d),
    net: formatAmount(row.netReward, d),
  };
}

export function shareView(
  row: { epoch: number; nodeId: string; accountId: string; role: string; amount: number; commission: number },
  d: number,
) {
  return {
    epoch: row.epoch,
    nodeId: row.nodeId,
    accountId: row.accountId,
    role: row.role,
    amount: formatAmount(row.amount, d),
    commission: formatAmount(row.commission, d),
  };
}

export function slashView(
  row: {
    id: string;
    nodeId: string;
    offence: string;
    amount: number;
    evidence: string;
    status: string;
    epoch: number | null;
    fromReward: number;
    fromStake: number;
    createdAt: number;
    appliedAt: number | null;
  },
  d: number,
) {
  return {
    id: row.id,
    nodeId: row.nodeId,
    offence: row.offence,
    amount: formatAmount(row.amount, d),
    evidence: JSON.parse(row.evidence) as unknown,
    status: row.status,
    epoch: row.epoch,
    fromRewards: formatAmount(row.fromReward, d),
    fromStake: formatAmount(row.fromStake, d),
    createdAt: iso(row.createdAt),
    appliedAt: iso(row.appliedAt),
  };
}
