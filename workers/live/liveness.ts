// Pure liveness rules: what a heartbeat or a sweep does to one node's live record.

export type NodeStatus = 'online' | 'offline';

export interface LiveRecord {
  status: NodeStatus;
  lastSeenAt: number;
  onlineMs: number;
}

export interface Transition {
  kind: NodeStatus;
  at: number;
  detail: Record<string, unknown>;
}

/**
 * A heartbeat received at `now`. Time between two heartbeats counts as online only when the
 * node was online and the gap is within the offline threshold: uptime is measured on server
 * receive times, never on what the agent claims. A gap the sweeper has not caught yet still
 * yields the offline/online pair, so operators see every outage.
 */
export function applyHeartbeat(record: LiveRecord, now: number, offlineAfterMs: number): { record: LiveRecord; transitions: Transition[] } {
  const gap = now - record.lastSeenAt;
  if (gap < 0) return { record, transitions: [] }; // clock went backwards: keep what we had
  if (record.status === 'online' && gap <= offlineAfterMs) {
    return { record: { ...record, lastSeenAt: now, onlineMs: record.onlineMs + gap }, transitions: [] };
  }
  const transitions: Transition[] = [];
  if (record.status === 'online') transitions.push(offlineTransition(record, record.lastSeenAt + offlineAfterMs));
  transitions.push({ kind: 'online', at: now, detail: { offlineSince: record.lastSeenAt } });
  return { record: { status: 'online', lastSeenAt: now, onlineMs: record.onlineMs }, transitions };
}

/** True when an online node has been silent for longer than the threshold at `now`. */
export function isOverdue(record: LiveRecord, now: number, offlineAfterMs: number): boolean {
  return record.status === 'online' && now - record.lastSeenAt > offlineAfterMs;
}

export function offlineTransition(record: LiveRecord, at: number): Transition {
  return { kind: 'offline', at, detail: { lastSeenAt: record.lastSeenAt } };
}
