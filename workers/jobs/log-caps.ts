import type { JobStatus } from '../../db/schema.ts';
import type { Db } from '../app-env.ts';

// Job logs live in D1 and are the renter's window on a job, not its archive: they are accepted
// only while the job is starting or running, and capped per job. 512 KiB and 10,000 lines show a
// job's progress and its errors (the agent sends whole lines, ≤ 8 KiB every 250 ms); a job that
// prints more keeps its full output in its own storage. Without a cap one node could fill the
// database with a single chatty (or hostile) job. The chunk that would cross a cap is replaced by
// one marker line on the `system` stream; every later chunk is dropped without any write.

export const LOG_CAP_BYTES = 512 * 1024;
export const LOG_CAP_LINES = 10_000;
export const LOG_STATUSES: readonly JobStatus[] = ['starting', 'running'];
export const LOG_CAP_MARKER = `[gridplane] This job's log reached its cap (${LOG_CAP_BYTES / 1024} KiB or ${LOG_CAP_LINES.toLocaleString('en')} lines); the rest of its output was dropped.\n`;

/** Lines a chunk counts for: its newlines, plus an unfinished last line; at least one (an empty chunk is a row too). */
export function logLines(data: string): number {
  let lines = 0;
  for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) lines++;
  if (data.length > 0 && !data.endsWith('\n')) lines++;
  return Math.max(1, lines);
}

export interface LogChunk {
  jobId: string;
  eventId: string;
  nodeId: string;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  /** Already redacted: what is stored. */
  data: string;
  at: number;
}

/** `stored`: the chunk is kept; `capped`: this chunk crossed the cap and the marker took its place; `dropped`: past the cap, nothing written. */
export type LogOutcome = 'stored' | 'capped' | 'dropped';

/**
 * Stores a chunk under the job's caps in one D1 batch (one transaction): the usage row, the event
 * id, the chunk or the marker, and the new usage are all decided on the same state, so two
 * racing chunks cannot both slip under a cap, and the marker is written once.
 */
export async function storeLogChunk(db: Db, chunk: LogChunk): Promise<LogOutcome> {
  const d1 = db.$client;
  const bytes = new TextEncoder().encode(chunk.data).length;
  const lines = logLines(chunk.data);
  const fits = `bytes + ${bytes} <= ${LOG_CAP_BYTES} AND lines + ${lines} <= ${LOG_CAP_LINES}`;
  const usage = await d1.prepare('SELECT capped FROM job_log_usage WHERE job_id = ?').bind(chunk.jobId).first<number>('capped');
  // Past the cap: no write at all, not even the event id.
  if (usage === 1) return 'dropped';
  const results = await d1.batch([
    d1.prepare('INSERT INTO job_log_usage (job_id) VALUES (?) ON CONFLICT DO NOTHING').bind(chunk.jobId),
    d1
      .prepare(
        `INSERT INTO job_events (job_id, event_id, node_id, kind, at, signed)
         SELECT ?1, ?2, ?3, 'log', ?4, NULL FROM job_log_usage WHERE job_id = ?1 AND capped = 0
         ON CONFLICT DO NOTHING`,
      )
      .bind(chunk.jobId, chunk.eventId, chunk.nodeId, chunk.at),
    d1
      .prepare(
        `INSERT INTO job_logs (job_id, seq, stream, data, at)
         SELECT ?1, ?2, ?3, ?4, ?5 FROM job_log_usage WHERE job_id = ?1 AND capped = 0 AND ${fits}
         ON CONFLICT DO NOTHING`,
      )
      .bind(chunk.jobId, chunk.seq, chunk.stream, chunk.data, chunk.at),
    d1
      .prepare(
        `INSERT INTO job_logs (job_id, seq, stream, data, at)
         SELECT ?1, ?2, 'system', ?3, ?4 FROM job_log_usage WHERE job_id = ?1 AND capped = 0 AND NOT (${fits})
         ON CONFLICT DO NOTHING`,
      )
      .bind(chunk.jobId, chunk.seq, LOG_CAP_MARKER, chunk.at),
    d1
      .prepare(
        `UPDATE job_log_usage
         SET bytes = bytes + CASE WHEN ${fits} THEN ${bytes} ELSE 0 END,
             lines = lines + CASE WHEN ${fits} THEN ${lines} ELSE 0 END,
             capped = CASE WHEN ${fits} THEN 0 ELSE 1 END
         WHERE job_id = ? AND capped = 0`,
      )
      .bind(chunk.jobId),
  ]);
  if ((results[2]?.meta.changes ?? 0) > 0) return 'stored';
  if ((results[3]?.meta.changes ?? 0) > 0) return 'capped';
  // A chunk whose seq was stored before under another event id, or a racing chunk that found the cap closed.
  return (results[4]?.meta.changes ?? 0) > 0 ? 'stored' : 'dropped';
}
