import type { JobStatus } from '../../db/schema/jobs.ts';

// The job state machine. Pure: the repo applies a transition with a compare-and-swap UPDATE on
// the status this module allowed, and a trigger in SQL refuses any edge not listed here (the
// worker test `jobs-state-sql` checks that both lists agree).
//
//   queued ──► assigned ──► starting ──► running ──► succeeded
//     │  ▲        │  │          │  │         ├──────► failed
//     │  └────────┘  │          │  │         ├──────► cancelled
//     │  └───────────┼──────────┘  │         └──────► expired
//     ├──► cancelled ◄┴────────────┤
//     └──► expired ◄──────────────┴──► failed
//
// A job goes back to `queued` only before anything ran (deadline missed, node lost, refused),
// so a requeue never bills. When the last attempt is used up or the queue window closes, a job
// that never ran expires (from queued, assigned or starting) with a full refund. Terminal
// states never change again.

export type { JobStatus };
export type ActorKind = 'renter' | 'agent' | 'system';

export interface Edge {
  from: JobStatus;
  to: JobStatus;
  by: readonly ActorKind[];
}

export const JOB_EDGES: readonly Edge[] = [
  { from: 'queued', to: 'assigned', by: ['system'] },
  { from: 'queued', to: 'cancelled', by: ['renter'] },
  { from: 'queued', to: 'expired', by: ['system'] },
  { from: 'assigned', to: 'starting', by: ['agent'] },
  { from: 'assigned', to: 'queued', by: ['agent', 'system'] },
  { from: 'assigned', to: 'cancelled', by: ['renter'] },
  { from: 'assigned', to: 'expired', by: ['system'] },
  { from: 'starting', to: 'running', by: ['agent'] },
  { from: 'starting', to: 'queued', by: ['system'] },
  { from: 'starting', to: 'failed', by: ['agent', 'system'] },
  { from: 'starting', to: 'cancelled', by: ['renter'] },
  { from: 'starting', to: 'expired', by: ['system'] },
  { from: 'running', to: 'succeeded', by: ['agent'] },
  { from: 'running', to: 'failed', by: ['agent', 'system'] },
  { from: 'running', to: 'cancelled', by: ['renter'] },
  { from: 'running', to: 'expired', by: ['agent', 'system'] },
];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];
/** States in which a node holds the job and its GPUs are committed. */
export const PLACED_STATUSES: readonly JobStatus[] = ['assigned', 'starting', 'running'];

export const isTerminal = (s: JobStatus) => TERMINAL_STATUSES.includes(s);
export const isPlaced = (s: JobStatus) => PLACED_STATUSES.includes(s);

export type TransitionCheck = { ok: true } | { ok: false; reason: 'terminal' | 'no_such_edge' | 'not_allowed_for_actor' };

export function checkTransition(from: JobStatus, to: JobStatus, actor: ActorKind): TransitionCheck {
  if (isTerminal(from)) return { ok: false, reason: 'terminal' };
  const edge = JOB_EDGES.find((e) => e.from === from && e.to === to);
  if (!edge) return { ok: false, reason: 'no_such_edge' };
  return edge.by.includes(actor) ? { ok: true } : { ok: false, reason: 'not_allowed_for_actor' };
}

/** `from>to` strings, as the SQL guard lists them. */
export const edgeKeys = () => JOB_EDGES.map((e) => `${e.from}>${e.to}`);

/** What an agent event asks for, given where the job is. `null`: nothing to change (a duplicate or a late event). */
export function statusAfterAgentEvent(
  current: JobStatus,
  event: { kind: 'accepted' | 'rejected' | 'started' | 'finished'; exitCode?: number; reason?: 'exited' | 'timeout' | 'error' | 'stopped' },
): JobStatus | null {
  switch (event.kind) {
    case 'accepted':
      return current === 'assigned' ? 'starting' : null;
    case 'rejected':
      return current === 'assigned' ? 'queued' : null;
    case 'started':
      return current === 'starting' ? 'running' : null;
    case 'finished': {
      if (current === 'starting') return 'failed';
      if (current !== 'running') return null;
      if (event.reason === 'timeout') return 'expired';
      return event.exitCode === 0 && event.reason !== 'error' ? 'succeeded' : 'failed';
    }
  }
}
