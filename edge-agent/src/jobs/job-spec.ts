// The agent's own check of a job offer. Whatever reaches this host (a control-plane bug, a
// compromised control plane, a field added later) passes this before anything runs, at least as
// strictly as the control plane's job request schema (workers/jobs/job-input.schema.ts), and
// stricter where the host needs it:
//
// - image: the reference grammar docker itself uses ([domain[:port]/]path[:tag][@digest], lower-case
//   path), so nothing that starts with "-" or holds a space reaches `docker run` as a flag;
// - env names [A-Z_][A-Z0-9_]* and values of one line without NUL: they go to docker in an env
//   file, one NAME=VALUE per line, where a line break would start another variable;
// - command arguments without NUL (execve cannot carry one); sizes and counts as the control plane's.
//
// Unknown fields are dropped, not refused, so a newer control plane can add one without every
// agent refusing all jobs; nothing here ever reads them.
import { z } from 'zod';

export const MAX_ENV_VARS = 64;
export const MAX_VALUE_CHARS = 4096;
export const MAX_COMMAND_ARGS = 64;
export const MAX_GPUS = 64;
export const MAX_DURATION_S = 30 * 24 * 3600;
/** Reasons go into the failure event's message (500 characters with its prefix). */
export const MAX_REASON_CHARS = 300;

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

// docker/distribution's reference grammar (reference/regexp.go), anchored.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE = new RegExp(`^${NAME}(?::${TAG})?(?:@${DIGEST})?$`);

export function isImageReference(image: string): boolean {
  return image.length >= 1 && image.length <= 255 && IMAGE.test(image);
}

/**
 * The registry an image comes from, as docker splits it: the first path component when it holds a
 * "." or ":", is "localhost", or has upper case; null for Docker Hub.
 */
export function registryHostOf(image: string): string | null {
  const slash = image.indexOf('/');
  if (slash === -1) return null;
  const first = image.slice(0, slash);
  if (!/[.:]/.test(first) && first !== 'localhost' && first === first.toLowerCase()) return null;
  return first.startsWith('[') ? first.slice(0, first.indexOf(']') + 1) : first.replace(/:\d+$/, '');
}

/**
 * The docker daemon pulls from the host's network, so a registry named by an address (127.1,
 * 2130706433 and 0x7f000001 included: resolvers read those as IPv4), or by localhost or a bare
 * single-label name (the host's search domain), would let a job probe the host's own and private
 * services. Registries are named by DNS names with an alphabetic top-level label.
 */
function isPublicRegistryName(image: string): boolean {
  const host = registryHostOf(image);
  if (host === null) return true;
  const labels = host.toLowerCase().split('.');
  const top = labels.at(-1) ?? '';
  return labels.length >= 2 && /^[a-z]/.test(top) && top !== 'localhost' && !host.startsWith('[');
}

/**
 * One line, no NUL, and valid Unicode: docker rejects an env file that is not UTF-8, and a lone
 * surrogate would not survive the trip to UTF-8 (it becomes U+FFFD).
 */
const isEnvFileValue = (value: string) => !/[\n\r\0]/.test(value) && Buffer.from(value, 'utf8').toString('utf8') === value;

export const JobSpecSchema = z.object({
  id: z.string().regex(JOB_ID, 'must be 1-64 letters, digits, _ or -'),
  image: z
    .string()
    .refine(isImageReference, 'must be a container image reference such as "python:3.12-slim" (lower-case name, optional :tag and @digest)')
    .refine(isPublicRegistryName, 'the registry must be a DNS name (not localhost or an IP address): docker pulls it from the host’s own network'),
  command: z
    .array(z.string().max(MAX_VALUE_CHARS).refine((arg) => !arg.includes('\0'), 'arguments cannot hold NUL'))
    .max(MAX_COMMAND_ARGS),
  env: z
    .record(
      z.string().regex(ENV_NAME, 'names are upper-case letters, digits and _ and do not start with a digit ([A-Z_][A-Z0-9_]*, at most 128)'),
      z.string().max(MAX_VALUE_CHARS).refine(isEnvFileValue, 'values are one line without NUL (no \\n, \\r or \\0)'),
    )
    .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, `at most ${MAX_ENV_VARS} variables`),
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
function reasonOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the job offer does not parse';
  const path = issue.path.map(String).join('.');
  // A bad record key reports "Invalid key in record"; the key schema's own message says why.
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  const where = path.length > 80 ? `${path.slice(0, 79)}…` : path;
  const reason = where ? `${where}: ${message}` : message;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}
