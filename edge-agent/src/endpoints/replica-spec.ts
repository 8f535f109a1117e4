// The agent's own check of a replica spec (the `replicas` control message, protocol/tunnel.ts).
// Whatever reaches this host passes it before anything runs: the tunnel's schema gives the shape,
// and the image, command and env get the job rules (protocol/job-rules.ts), so a replica can carry
// to the host exactly what a job can. A spec that fails is reported `failed` with the reason and
// never run. Unknown fields are dropped, as for job offers.
import * as z from 'zod';
import { jobCommandSchema, jobEnvSchema, jobImageSchema } from '../../../protocol/job-rules.ts';
import { replicaSpecSchema } from '../../../protocol/tunnel.ts';
import { reasonOf } from '../jobs/job-spec.ts';
import type { RunSpec } from '../jobs/runtime.ts';

/** Ids name containers (`gridplane-<replicaId>`) and temporary directories: letters, digits, _ and -. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ID_RULE = 'must be 1-64 letters, digits, _ or -';

export const AgentReplicaSpecSchema = replicaSpecSchema.extend({
  replicaId: z.string().regex(ID, ID_RULE),
  endpointId: z.string().regex(ID, ID_RULE),
  image: jobImageSchema,
  command: jobCommandSchema,
  env: jobEnvSchema,
  // It goes on an HTTP request line: printable ASCII, no spaces.
  healthPath: z
    .string()
    .max(512)
    .regex(/^\/[\x21-\x7e]*$/, 'must start with / and hold printable ASCII without spaces'),
});
export type AgentReplicaSpec = z.infer<typeof AgentReplicaSpecSchema>;

export type ReplicaSpecCheck =
  | { ok: true; spec: AgentReplicaSpec }
  /** `replicaId` null: the spec names no usable replica, so there is nobody to report the refusal for. */
  | { ok: false; replicaId: string | null; reason: string };

export function checkReplicaSpec(raw: unknown): ReplicaSpecCheck {
  const parsed = AgentReplicaSpecSchema.safeParse(raw);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const id = typeof raw === 'object' && raw !== null ? (raw as { replicaId?: unknown }).replicaId : undefined;
  return { ok: false, replicaId: typeof id === 'string' && ID.test(id) ? id : null, reason: reasonOf(parsed.error) };
}

/** What the runtime runs for a replica: its container is named after the replica. */
export function runSpecOf(spec: AgentReplicaSpec): RunSpec {
  return { id: spec.replicaId, image: spec.image, command: spec.command, env: spec.env };
}
