// The jobs side of a NodeShard Durable Object: which jobs each node of the shard holds, and the
// WebSocket streams agents keep open to hear about them at once. Kept in the DO's own SQLite, so
// heartbeats answer "your new jobs" without reading D1. D1 stays the truth: when the two differ,
// the sweeper re-offers or the agent's event is refused, and this list follows.

export type { AgentJob, StreamMessage } from '../../protocol/job-offer.ts';
import type { AgentJob, StreamMessage } from '../../protocol/job-offer.ts';

/** Header the Worker sets after it verified the agent's signature; the DO is reachable only through it. */
export const VERIFIED_NODE_HEADER = 'X-Gridplane-Verified-Node';

export class ShardJobs {
  /** The shard created `node_jobs` (workers/live/shard-tables.ts). */
  constructor(private readonly ctx: DurableObjectState) {
    // Pings are answered without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /** Remembers the job for the node and pushes it to every open stream; returns how many got it. */
  offer(nodeId: string, job: AgentJob, nowMs: number): { pushed: number } {
    this.sql.exec(
      `INSERT INTO node_jobs (node_id, job_id, state, payload, offered_at) VALUES (?1, ?2, 'assigned', ?3, ?4)
       ON CONFLICT (node_id, job_id) DO UPDATE SET payload = ?3, offered_at = ?4 WHERE state = 'assigned'`,
      nodeId,
      job.id,
      JSON.stringify(job),
      nowMs,
    );
    return { pushed: this.send(nodeId, { type: 'job', job }) };
  }

  accepted(nodeId: string, jobId: string): void {
    this.sql.exec("UPDATE node_jobs SET state = 'active', payload = '{}' WHERE node_id = ? AND job_id = ?", nodeId, jobId);
  }

  /** The node no longer holds the job: forget it and tell the agent to stop it if it runs. */
  drop(nodeId: string, jobId: string, reason: string): { pushed: number } {
    this.sql.exec('DELETE FROM node_jobs WHERE node_id = ? AND job_id = ?', nodeId, jobId);
    return { pushed: this.send(nodeId, { type: 'stop', jobId, reason }) };
  }

  /** For the heartbeat answer: jobs offered and not yet accepted, and running jobs the node should not have. */
  forHeartbeat(nodeId: string, runningJobs: readonly string[]): { jobs: AgentJob[]; stopJobs: string[] } {
    const rows = this.sql
      .exec<{ job_id: string; state: string; payload: string }>('SELECT job_id, state, payload FROM node_jobs WHERE node_id = ?', nodeId)
      .toArray();
    const held = new Set(rows.map((r) => r.job_id));
    return {
      jobs: rows.filter((r) => r.state === 'assigned').map((r) => JSON.parse(r.payload) as AgentJob),
      stopJobs: runningJobs.filter((id) => !held.has(id)),
    };
  }

  /** Upgrades an already verified request to a hibernatable WebSocket tagged with the node id. */
  connect(request: Request): Response {
    const nodeId = request.headers.get(VERIFIED_NODE_HEADER);
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket' || !nodeId) {
      return new Response('expected a verified WebSocket upgrade', { status: 426 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [nodeId]);
    const pending = this.forHeartbeat(nodeId, []).jobs;
    server.send(JSON.stringify({ type: 'hello', nodeId, jobs: pending.length } satisfies StreamMessage));
    for (const job of pending) server.send(JSON.stringify({ type: 'job', job } satisfies StreamMessage));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Closes every stream of the node (1008, policy violation: a suspended node); returns how many. */
  closeAll(nodeId: string, reason: string): number {
    const sockets = this.ctx.getWebSockets(nodeId);
    for (const ws of sockets) {
      try {
        ws.close(1008, reason.slice(0, 120));
      } catch {
        // already closing
      }
    }
    return sockets.length;
  }

  connections(nodeId: string): number {
    return this.ctx.getWebSockets(nodeId).length;
  }

  private send(nodeId: string, message: StreamMessage): number {
    let sent = 0;
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets(nodeId)) {
      try {
        ws.send(text);
        sent++;
      } catch {
        // A socket that is closing; the heartbeat answer still carries the job.
      }
    }
    return sent;
  }
}
