import * as z from 'zod';
import { JOB_STATUSES } from '../../db/schema/jobs.ts';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schemas of the renters' quote and job routes: what `jobView` and the routes return,
// for the OpenAPI document (workers/openapi) and the typed client. The worker test
// `openapi.test.ts` checks them against the view functions' types and real responses.

export const jobStatusSchema = z.enum(JOB_STATUSES);

const location = z.object({ lat: z.number(), lon: z.number() });

export const quoteResponseSchema = z.object({
  candidates: z
    .array(
      z.object({
        nodeId: z.string(),
        pricePerGpuHour: amountText,
        estRttMs: z.number(),
        score: z.number(),
        location: z.object({ lat: z.number(), lon: z.number(), country: z.string() }),
      }),
    )
    .describe('Best first.'),
  client: location.describe("Where the renter was taken to be: the request's `client`, else the edge location."),
  meta: z.object({ rowsRead: z.number().int(), queries: z.number().int(), rings: z.number().int(), nodesConsidered: z.number().int() }),
});

export const jobBillingSchema = z.object({
  billedGpuSeconds: z.number().int().nullable(),
  receiptGpuSeconds: z.number().int().nullable(),
  captured: amountText.nullable().describe('Taken from the escrow.'),
  fee: amountText.nullable().describe('The protocol fee, part of what was captured.'),
  operator: amountText.nullable().describe("What the node's operator earned: captured less the fee."),
  refunded: amountText.nullable().describe("Given back to the renter's balance."),
  settlementTxId: z.string().nullable(),
});

export const jobTransitionSchema = z.object({
  from: jobStatusSchema.nullable(),
  to: jobStatusSchema,
  actor: z.string(),
  reason: z.string(),
  nodeId: z.string().nullable(),
  at: isoTime.nullable(),
});

export const jobViewSchema = z.object({
  id: z.string(),
  status: jobStatusSchema,
  nodeId: z.string().nullable(),
  gpu: z.object({ model: z.string().optional(), minVramMb: z.number().int().optional(), count: z.number().int() }),
  durationS: z.number().int(),
  image: z.string(),
  command: z.array(z.string()),
  envNames: z.array(z.string()).describe('Names of the env variables the job was given; never their values.'),
  pricePerGpuHour: amountText.nullable().describe('The price of the node it was placed on.'),
  escrow: amountText.describe('Held from the balance while the job can run.'),
  escrowPricePerGpuHour: amountText,
  attempts: z.number().int(),
  exitCode: z.number().int().nullable(),
  billing: jobBillingSchema.nullable().describe('The bill, once the job is settled.'),
  createdAt: isoTime.nullable(),
  assignedAt: isoTime.nullable(),
  acceptDeadline: isoTime.nullable(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  reason: z.string().nullable(),
  transitions: z.array(jobTransitionSchema).optional().describe('Only on GET /v1/jobs/{id}.'),
});
export type JobViewWire = z.output<typeof jobViewSchema>;

export const jobListSchema = z.object({
  jobs: z.array(jobViewSchema).describe('Newest first.'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last.'),
});

export const jobLogsSchema = z.object({
  jobId: z.string(),
  status: jobStatusSchema,
  logs: z.array(z.object({ seq: z.number().int(), stream: z.enum(['stdout', 'stderr', 'system']), data: z.string(), at: isoTime })),
  next: z.number().int().describe('Pass as `after` to read on; equal to `after` when nothing new arrived.'),
});
