// What an agent reports about a job it holds: POST /v1/nodes/{id}/jobs/{jobId}/events, signed.
// One declaration for both sides: the Worker validates every event with agentEventSchema, the
// agent's job runner types the events it sends by it. Event ids come from the job
// (`<job>:accepted`, `<job>:log:<seq>` …), so a resend is recognised as a duplicate.

import * as z from 'zod';
import { MAX_DURATION_S } from './job-rules.ts';

export const eventIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,96}$/, 'must be 1-96 letters, digits, or _ . : -');

const base = { eventId: eventIdSchema, at: z.number().int().min(0).optional() };

export const agentEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('accepted') }),
  z.strictObject({ ...base, kind: z.literal('rejected'), reason: z.string().max(200).default('refused') }),
  z.strictObject({ ...base, kind: z.literal('started') }),
  z.strictObject({
    ...base,
    kind: z.literal('log'),
    seq: z.number().int().min(0).max(10_000_000),
    stream: z.enum(['stdout', 'stderr', 'system']),
    data: z.string().max(16 * 1024),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('finished'),
    exitCode: z.number().int().min(-1).max(255).nullable(),
    reason: z.enum(['exited', 'timeout', 'error', 'stopped']),
    /** The receipt: GPU-seconds the job used, as the agent measured them. */
    receipt: z.strictObject({
      gpuSeconds: z
        .number()
        .int()
        .min(0)
        .max(64 * MAX_DURATION_S),
      runSeconds: z.number().min(0),
    }),
    message: z.string().max(500).optional(),
  }),
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;
