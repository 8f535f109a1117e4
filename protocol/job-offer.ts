// What the Worker sends an agent about jobs: the job offer (in heartbeat answers and over the
// signed WebSocket stream) and the stream's messages. The agent checks every offer against the
// rules both sides share (job-rules.ts) before it runs anything.

export interface AgentJob {
  id: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  gpus: { count: number; allocation: [string, number][] };
  durationS: number;
  /** Unix ms: accept before this or lose the job. */
  acceptBy: number;
  assignedAt: number;
}

export type StreamMessage =
  | { type: 'hello'; nodeId: string; jobs: number }
  | { type: 'job'; job: AgentJob }
  | { type: 'stop'; jobId: string; reason: string };
