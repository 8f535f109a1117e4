import { clockTime } from '../lib/human-time.ts';
import { isRenterKind, type AlertKind, type ChatAlert } from './alert-event.ts';
import { renterButtons, renterLine, tokens, type AlertButton } from './renter-text.ts';

// Pure: a chat's pending alerts as one short Telegram message. Alerts of one kind collapse into
// one line ("🔴 10 nodes went offline: rig-1, rig-2, … and 4 more"), so a burst is one message.

/** Telegram's limit is 4096 characters; stay under it with room for the footer. */
export const MAX_MESSAGE_CHARS = 3800;
const NAMES_PER_LINE = 6;

const ORDER: AlertKind[] = [
  'node_suspended',
  'node_offline',
  'gpu_hot',
  'job_failed',
  'verification_failed',
  'slashed',
  'stake_low',
  'payout_refunded',
  'node_online',
  'reward_paid',
];

/** Settlement's refund reasons (workers/settlement/payout-run.ts), as the owner reads them. */
const REFUND_REASONS: Record<string, string> = {
  recipient_refused: "the recipient's token account refused the transfer",
  recipient_token_account_missing: 'the recipient has no token account any more; withdraw again to have it created (for a fee)',
  invalid_recipient: 'the destination is not a wallet address',
  invalid_amount: 'the amount cannot be sent',
};

export interface RenderOptions {
  timeZone: string;
  tokenDecimals: number;
  /** For "in 25 min" next to a clock time; without it only the clock time is written. */
  nowMs?: number;
}

export interface RenderedAlerts {
  text: string;
  /** The alerts this message covers; the rest wait for the next one. */
  eventIds: string[];
  /** Buttons under the message (an alert that asks for a decision goes out alone with its own). */
  buttons: AlertButton[];
}

export function renderAlerts(alerts: ChatAlert[], options: RenderOptions): RenderedAlerts {
  const sorted = [...alerts].sort((x, y) => x.at - y.at || x.eventId.localeCompare(y.eventId, 'en', { numeric: true }));
  // An alert with buttons (a link to confirm) is a message of its own, so its buttons are unambiguous.
  const asking = sorted.find((a) => renterButtons(a).length > 0);
  if (asking) return { text: renterLine(asking, options), eventIds: [asking.eventId], buttons: renterButtons(asking) };
  const byKind = new Map<AlertKind, ChatAlert[]>();
  for (const a of sorted) {
    const list = byKind.get(a.kind) ?? [];
    list.push(a);
    byKind.set(a.kind, list);
  }
  const lines: string[] = [];
  const eventIds: string[] = [];
  let length = 0;
  // Lines in the order things happened (a node that went offline and came back reads in that
  // order); ORDER only breaks ties between kinds that started in the same millisecond.
  const kinds = [...byKind.keys()].sort((a, b) => byKind.get(a)![0]!.at - byKind.get(b)![0]!.at || ORDER.indexOf(a) - ORDER.indexOf(b));
  for (const kind of kinds) {
    const group = byKind.get(kind)!;
    // A renter's alerts are about different jobs and amounts: one line each, never merged.
    const line = isRenterKind(kind)
      ? group.map((a) => renterLine(a, options)).join('\n')
      : group.length === 1
        ? single(group[0]!, options)
        : grouped(kind, group, options);
    if (length + line.length + 1 > MAX_MESSAGE_CHARS && lines.length > 0) break;
    lines.push(line);
    length += line.length + 1;
    eventIds.push(...group.map((a) => a.eventId));
  }
  return { text: lines.join('\n'), eventIds, buttons: [] };
}

const nameOf = (a: ChatAlert) => a.nodeName ?? (a.nodeId ? shortId(a.nodeId) : 'your account');
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 4)}…${id.slice(-4)}` : id);

const time = (atMs: number, timeZone: string) => clockTime(atMs, timeZone);

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

function single(a: ChatAlert, o: RenderOptions): string {
  const at = time(a.at, o.timeZone);
  const name = nameOf(a);
  const d = a.data;
  switch (a.kind) {
    case 'node_offline':
      return `🔴 ${name} went offline at ${at}.`;
    case 'node_online':
      return `🟢 ${name} is back online (${at}).`;
    case 'gpu_hot':
      return `🌡 ${name}: GPU ${str(d.gpuIndex) ?? '?'} at ${str(d.tempC) ?? '?'} °C (limit ${str(d.thresholdC) ?? '?'} °C), ${at}.`;
    case 'verification_failed':
      return `⚠️ ${name} failed verification at ${at}${d.reason ? `: ${str(d.reason)?.replace(/_/g, ' ')}` : ''}.`;
    case 'job_failed':
      return `❌ ${d.jobId ? `Job ${str(d.jobId)}` : 'A job'} failed on ${name} at ${at}${d.reason ? `: ${str(d.reason)}` : ''}.`;
    case 'slashed':
      return `✂️ ${tokens(d.amount, o.tokenDecimals)} tokens of stake on ${name} slashed at ${at}${d.reason ? `: ${str(d.reason)}` : ''}.`;
    case 'reward_paid':
      return `💸 Payout of ${tokens(d.amount, o.tokenDecimals)} tokens sent at ${at}${d.signature ? `, transaction ${str(d.signature)}` : ''}.`;
    case 'payout_refunded': {
      const why = REFUND_REASONS[str(d.reason) ?? ''] ?? str(d.reason);
      return `↩️ Withdrawal of ${tokens(d.amount, o.tokenDecimals)} tokens refunded to your balance at ${at}${why ? `: ${why}` : ''}.`;
    }
    case 'node_suspended':
      return `⛔ ${name} was suspended by gridplane at ${at}${d.reason ? `: ${str(d.reason)}` : ''}. It gets no jobs or rewards and its agent's requests are refused until an admin lifts the suspension.`;
    case 'job_started':
    case 'job_ending':
    case 'job_finished':
    case 'deposit_credited':
    case 'link_signed':
    case 'endpoint_balance_low':
    case 'endpoint_stopped':
    case 'rental_ending':
    case 'rental_ended':
      return renterLine(a, o);
    case 'stake_low':
      return `📉 Stake on ${name} is ${tokens(d.stake, o.tokenDecimals)} tokens, below the minimum of ${tokens(d.minimum, o.tokenDecimals)}.`;
  }
}

function grouped(kind: AlertKind, group: ChatAlert[], o: RenderOptions): string {
  // In the order they happened (the group is sorted by time), each name once.
  const names = [...new Set(group.map(nameOf))];
  const listed =
    names.slice(0, NAMES_PER_LINE).join(', ') + (names.length > NAMES_PER_LINE ? ` and ${names.length - NAMES_PER_LINE} more` : '');
  const first = time(group[0]!.at, o.timeZone);
  const last = time(group.at(-1)!.at, o.timeZone);
  const span = first === last ? first : `${first}–${last}`;
  const n = group.length;
  switch (kind) {
    case 'node_offline':
      return `🔴 ${n} nodes went offline (${span}): ${listed}.`;
    case 'node_online':
      return `🟢 ${n} nodes back online (${span}): ${listed}.`;
    case 'gpu_hot':
      return `🌡 ${n} GPU temperature alerts (${span}): ${listed}.`;
    case 'verification_failed':
      return `⚠️ ${n} failed verifications (${span}): ${listed}.`;
    case 'job_failed':
      return `❌ ${n} jobs failed (${span}) on ${listed}.`;
    case 'slashed': {
      const total = group.reduce((sum, a) => sum + BigInt(typeof a.data.amount === 'number' ? a.data.amount : 0), 0n);
      return `✂️ ${n} slashes (${span}), ${tokens(total.toString(), o.tokenDecimals)} tokens in all: ${listed}.`;
    }
    case 'reward_paid': {
      const total = group.reduce((sum, a) => sum + BigInt(typeof a.data.amount === 'number' ? a.data.amount : 0), 0n);
      return `💸 ${n} payouts sent (${span}), ${tokens(total.toString(), o.tokenDecimals)} tokens in all.`;
    }
    case 'payout_refunded': {
      const total = group.reduce((sum, a) => sum + BigInt(typeof a.data.amount === 'number' ? a.data.amount : 0), 0n);
      return `↩️ ${n} withdrawals refunded to your balance (${span}), ${tokens(total.toString(), o.tokenDecimals)} tokens in all.`;
    }
    case 'node_suspended':
      return `⛔ ${n} nodes suspended by gridplane (${span}): ${listed}. They get no jobs or rewards until an admin lifts the suspension.`;
    case 'stake_low':
      return `📉 Stake below the minimum on ${n} nodes: ${listed}.`;
    default:
      return group.map((a) => renterLine(a, o)).join('\n');
  }
}
