// The agent's own check of a job offer. Whatever reaches this host (a control-plane bug, a
// compromised control plane, a field added later) passes this before anything runs. The rules are
// the control plane's own (protocol/job-rules.ts: image grammar and registry, env names and
// one-line values, NUL-free arguments, sizes), so a job the API takes is a job the agent runs; the
// agent adds what only an offer carries (job id, GPU allocation, deadlines).
//
// Unknown fields are dropped, not refused, so a newer control plane can add one without every
// agent refusing all jobs; nothing here ever reads them.
import * as z from 'zod';
import { jobCommandSchema, jobEnvSchema, jobImageSchema, MAX_DURATION_S, MAX_GPUS } from '../../../protocol/job-rules.ts';

export { isImageReference, registryHostOf } from '../../../protocol/job-rules.ts';

/** Reasons go into the failure event's message (500 characters with its prefix). */
export const MAX_REASON_CHARS = 300;

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const JobSpecSchema = z.object({
  id: z.string().regex(JOB_ID, 'must be 1-64 letters, digits, _ or -'),
  image: jobImageSchema,
  command: jobCommandSchema,
  env: jobEnvSchema,
  gpus: z
    .object({
      count: z.number().int().min(1).max(MAX_GPUS),
      allocation: z.array(z.tuple([z.string().min(1).max(96), z.number().int().min(1).max(MAX_GPUS)])).min(1).max(MAX_GPUS),
    })
    .superRefine((gpus, ctx) => {
      const sum = gpus.allocation.reduce((total, [, n]) => total + n, 0);
      if (sum !== gpus.count) ctx.addIssue({ code: 'custom', message: `the allocation adds up to ${sum} GPU${sum === 1 ? '' : 's'}, not ${gpus.count}` });
    }),
  durationS: z.number().int().min(1).max(MAX_DURATION_S),
  acceptBy: z.number().int().min(0),
  assignedAt: z.number().int().min(0),
});
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
