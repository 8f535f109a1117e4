// The agent's own check of a job offer. Whatever reaches this host (a control-plane bug, a
// compromised control plane, a field added later) passes this before anything runs. The schema is
// the offer's one declaration (protocol/job-offer.ts, with the API's own job rules), so a job the
// API takes is a job the agent runs.
import type * as z from 'zod';
import { AgentJobSchema, JOB_ID } from '../../../protocol/job-offer.ts';

export { isImageReference, registryHostOf } from '../../../protocol/job-rules.ts';

/** Reasons go into the failure event's message (500 characters with its prefix). */
export const MAX_REASON_CHARS = 300;

export const JobSpecSchema = AgentJobSchema;
export type JobSpec = z.infer<typeof JobSpecSchema>;

/**
 * What a runtime reads of a spec (runtime.ts): the four fields that reach the host, with the same
 * rules. A replica's spec (endpoints/replica-spec.ts) carries them too.
 */
export const RunSpecSchema = JobSpecSchema.pick({ id: true, image: true, command: true, env: true });
export type RunSpec = z.infer<typeof RunSpecSchema>;

export function checkRunSpec(raw: unknown): { ok: true; spec: RunSpec } | { ok: false; reason: string } {
  const parsed = RunSpecSchema.safeParse(raw);
  return parsed.success ? { ok: true, spec: parsed.data } : { ok: false, reason: reasonOf(parsed.error) };
}

export type SpecCheck =
  | { ok: true; spec: JobSpec }
  /** `jobId` null: the offer does not even name a job, so there is nobody to report the refusal to. */
  | { ok: false; jobId: string | null; reason: string };

export function checkJobSpec(raw: unknown): SpecCheck {
  const parsed = JobSpecSchema.safeParse(raw);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  const jobId = typeof id === 'string' && JOB_ID.test(id) ? id : null;
  return { ok: false, jobId, reason: reasonOf(parsed.error) };
}

/**
 * "path: message" of the first problem, e.g. `env.A=B: names are …`. zod's messages never quote
 * the input, so an env value (a secret) never lands in a reason; a name might, cut short.
 */
export function reasonOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the job offer does not parse';
  const path = issue.path.map(String).join('.');
  // A bad record key reports "Invalid key in record"; the key schema's own message says why.
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  const where = path.length > 80 ? `${path.slice(0, 79)}…` : path;
  const reason = where ? `${where}: ${message}` : message;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}
