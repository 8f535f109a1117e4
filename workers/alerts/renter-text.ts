import { formatAmount } from '../lib/amounts.ts';
import { clockTime, durationText, relativeTime } from '../lib/human-time.ts';
import type { ChatAlert } from './alert-event.ts';

// Pure: what a renter reads about their own jobs, endpoints, deposits and links (the renter kinds of
// alert-event.ts), one line per alert, and the buttons an alert carries. `data` is what the
// pumps (renter-pumps.ts) and the link sign-in put in each event.

/** A button under an alert message; `action` is a bot action id (bots/core), ≤ 64 bytes. */
export interface AlertButton {
  label: string;
  action: string;
}

export interface RenterTextOptions {
  timeZone: string;
  tokenDecimals: number;
  nowMs?: number;
}

/** Whole tokens without trailing zeros: 1250000 base units at 6 decimals → "1.25". */
export function tokens(baseUnits: unknown, decimals: number): string {
  if (typeof baseUnits !== 'number' && typeof baseUnits !== 'string') return '?';
  try {
    const text = formatAmount(BigInt(baseUnits), decimals);
    return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  } catch {
    return '?';
  }
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** "15:30 UTC (in 25 min)", or just the clock time when the render has no clock. */
function when(atMs: number, o: RenterTextOptions): string {
  const clock = clockTime(atMs, o.timeZone);
  return o.nowMs === undefined ? clock : `${clock} (${relativeTime(atMs, o.nowMs)})`;
}

export function renterLine(a: ChatAlert, o: RenterTextOptions): string {
  const d = a.data;
  const job = str(d.jobId) ?? 'your job';
  const where = a.nodeName ? ` on ${a.nodeName}` : '';
  switch (a.kind) {
    case 'job_started': {
      const ends = num(d.endsAt);
      return `▶️ Your rental ${job} is running${where}${d.gpus ? `: ${str(d.gpus)}` : ''}${ends ? `, until ${when(ends, o)}` : ''}. /job ${job} shows it; /cancel ${job} stops it early (you pay only for the time it ran).`;
    }
    case 'job_ending': {
      const ends = num(d.endsAt);
      return `⏳ Your rental ${job}${where} ends at ${ends ? when(ends, o) : 'its end time'}. Save your work: the GPUs are released then. To keep going, /rent again.`;
    }
    case 'job_finished':
      return finished(job, where, d, o);
    case 'deposit_credited':
      return `💰 Deposit of ${tokens(d.amount, o.tokenDecimals)} tokens credited to your balance${d.signature ? ` (transaction ${str(d.signature)})` : ''}. /balance shows it; /rent to use it.`;
    case 'endpoint_balance_low':
      return endpointLow(d, o);
    case 'endpoint_stopped':
      return `⏹ Your endpoint ${endpointName(d)} stopped: ${ENDPOINT_STOP_REASONS[str(d.reason) ?? ''] ?? str(d.reason) ?? 'it was stopped'}. Nothing runs or is billed now; what is left of its hold goes back to your balance. Top up and set it active again to restart it.`;
    case 'rental_ending': {
      const ends = num(d.endsAt);
      return `⏳ Your ${endpointName(d)} ends at ${ends ? when(ends, o) : 'its end time'}: its GPUs are released then. Cost so far: ${tokens(d.cost ?? 0, o.tokenDecimals)} tokens. Extend it below to keep going.`;
    }
    case 'rental_ended': {
      const ended = num(d.endedAt);
      return `⌛ Your ${endpointName(d)} ended${ended ? ` at ${clockTime(ended, o.timeZone)}` : ''}: its time was up. It cost ${tokens(d.cost ?? 0, o.tokenDecimals)} tokens in all; the rest of its hold goes back to your balance. /rent starts a new one.`;
    }
    case 'link_signed':
      return `🔗 Wallet ${str(d.wallet) ?? '?'} signed in with your /link. Link ${str(d.label) ?? 'this chat account'} to it? Confirm only if you signed in yourself.`;
    default:
      return `${a.kind.replace(/_/g, ' ')}${where}.`;
  }
}

function finished(job: string, where: string, d: Record<string, unknown>, o: RenterTextOptions): string {
  const charged = tokens(d.charged ?? 0, o.tokenDecimals);
  const refunded = tokens(d.refunded ?? 0, o.tokenDecimals);
  const ran = num(d.ranS);
  const money = num(d.charged)
    ? `${charged} tokens charged${ran !== undefined ? ` for ${durationText(ran)}` : ''}, ${refunded} refunded to your balance`
    : `nothing charged, all ${refunded} tokens refunded to your balance`;
  const reason = reasonText(str(d.reason), num(d.exitCode));
  switch (str(d.status)) {
    case 'succeeded':
      return `✅ Your rental ${job}${where} finished: ${money}.`;
    case 'failed':
      return `❌ Your rental ${job}${where} failed${reason ? `: ${reason}` : ''}. ${capital(money)}.`;
    case 'cancelled':
      return `⏹ Your rental ${job}${where} was cancelled: ${money}.`;
    case 'expired':
      return `⌛ Your rental ${job}${where} ended${reason ? ` (${reason})` : ''}: ${money}.`;
    default:
      return `Your rental ${job}${where} ended: ${money}.`;
  }
}

/** The agent's one-word reasons as a person reads them; the jobs domain's own reasons are sentences already. */
function reasonText(reason: string | undefined, exitCode: number | undefined): string | undefined {
  switch (reason) {
    case 'error':
      return exitCode !== undefined && exitCode !== 0 ? `its command exited with code ${exitCode}` : 'the node could not run it';
    case 'timeout':
      return 'it ran past its rented time';
    case 'stopped':
      return 'the node stopped it';
    case 'exited':
      return exitCode !== undefined && exitCode !== 0 ? `its command exited with code ${exitCode}` : undefined;
    default:
      return reason;
  }
}

const endpointName = (d: Record<string, unknown>) =>
  d.name ? `${str(d.name)} (${str(d.endpointId) ?? '?'})` : (str(d.endpointId) ?? 'your endpoint');

/** The tend step's data (workers/endpoints/tend.ts): balance and hold in base units, seconds of burn left. */
function endpointLow(d: Record<string, unknown>, o: RenterTextOptions): string {
  const money = `${tokens(d.balance, o.tokenDecimals)} tokens on your balance, ${tokens(d.hold, o.tokenDecimals)} held`;
  if (d.stopping === true) return `🪫 Your endpoint ${endpointName(d)} has run out of balance (${money}): its replicas stop now.`;
  const left = num(d.secondsLeft);
  return `🪫 Your endpoint ${endpointName(d)} has ${left !== undefined ? `about ${durationText(left)}` : 'little time'} of balance left at its current replicas (${money}). /deposit to top up, or its replicas stop when it runs out.`;
}

const ENDPOINT_STOP_REASONS: Record<string, string> = {
  insufficient_funds: 'your balance ran out',
  rental_ended: 'its rental time is up',
};

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * A rental ending soon offers to extend it (bots/core/commands/rental.ts `rx` action:
 * `rx:<endpoint id>:<end in base 36>:<minutes>`, the end it was shown so a second press changes nothing).
 */
export const EXTEND_BUTTONS: readonly { label: string; minutes: number }[] = [
  { label: 'Extend 1 h', minutes: 60 },
  { label: 'Extend 30 min', minutes: 30 },
];

/** A link sign-in asks for the chat user's Confirm (bots/core/commands/account.ts `link` action). */
export function renterButtons(a: ChatAlert): AlertButton[] {
  if (a.kind === 'rental_ending') {
    const id = a.data.endpointId;
    const ends = num(a.data.endsAt);
    if (typeof id !== 'string' || !/^ep_[0-9a-f]{1,40}$/.test(id) || ends === undefined) return [];
    return EXTEND_BUTTONS.map((b) => ({ label: b.label, action: `rx:${id}:${ends.toString(36)}:${b.minutes}` }));
  }
  if (a.kind !== 'link_signed' || typeof a.data.ref !== 'string' || !/^[0-9a-f]{16}$/.test(a.data.ref)) return [];
  return [
    { label: 'Confirm', action: `link:ok:${a.data.ref}` },
    { label: 'Cancel', action: `link:no:${a.data.ref}` },
  ];
}
