import type { JobStatus } from '../../db/schema/jobs.ts';

// What the control plane does when a node fails a job. Pure; the sweeper and the event route
// apply the decision. A requeue happens only before anything ran, so it never bills; a running
// job that dies is failed and billed for what ran until the node's last sign of life.
// A node an admin suspends (workers/nodes/suspension.service.ts) loses its jobs the same way, except that
// a running job is failed and refunded in full: the suspension says its work cannot be trusted.

export type Fault = 'accept_timeout' | 'node_offline' | 'rejected' | 'overdue' | 'node_suspended';

export type FaultDecision =
  | { action: 'requeue'; reason: string }
  | { action: 'fail'; reason: string }
  | { action: 'expire'; reason: string }
  | { action: 'none' };

export function decideFault(status: JobStatus, fault: Fault, attempts: number, maxAttempts: number): FaultDecision {
  const requeueOrGiveUp = (reason: string): FaultDecision =>
    attempts >= maxAttempts
      ? { action: 'expire', reason: `${reason}; no node took the job after ${attempts} attempts` }
      : { action: 'requeue', reason };
  switch (fault) {
    case 'accept_timeout':
      return status === 'assigned' ? requeueOrGiveUp('the node did not accept in time') : { action: 'none' };
    case 'rejected':
      return status === 'assigned' ? requeueOrGiveUp('the node refused the job') : { action: 'none' };
    case 'node_offline':
      if (status === 'assigned' || status === 'starting') return requeueOrGiveUp('the node went offline before the job ran');
      if (status === 'running') return { action: 'fail', reason: 'the node went offline while the job ran' };
      return { action: 'none' };
    case 'node_suspended':
      if (status === 'assigned' || status === 'starting') return requeueOrGiveUp('the node was suspended before the job ran');
      if (status === 'running') return { action: 'fail', reason: 'the node was suspended while the job ran' };
      return { action: 'none' };
    case 'overdue':
      return status === 'running'
        ? { action: 'expire', reason: 'the job ran past its duration and the node did not close it' }
        : { action: 'none' };
  }
}

/**
 * How an outcome moves the node's reputation (0..1): `r' = r × scale + add`, linear so SQL can
 * apply it in place. Success creeps towards 1; silence costs more than an honest refusal.
 */
export function reputationUpdate(outcome: 'succeeded' | Fault): { scale: number; add: number } {
  switch (outcome) {
    case 'succeeded':
      return { scale: 0.95, add: 0.05 };
    case 'rejected':
      return { scale: 0.95, add: 0 };
    case 'accept_timeout':
    case 'overdue':
      return { scale: 0.85, add: 0 };
    case 'node_offline':
      return { scale: 0.8, add: 0 };
    case 'node_suspended':
      // The suspension is the sanction; reputation is what it was when an admin lifts it.
      return { scale: 1, add: 0 };
  }
}

export function reputationAfter(reputation: number, outcome: 'succeeded' | Fault): number {
  const r = Number.isFinite(reputation) ? Math.min(1, Math.max(0, reputation)) : 0;
  const { scale, add } = reputationUpdate(outcome);
  return Math.min(1, Math.max(0, r * scale + add));
}
