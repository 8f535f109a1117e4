import * as z from 'zod';
import { amountText, isoTime } from '../lib/wire-schemas.ts';

// Response schema of GET /v1/network/summary (`NetworkSummary` in summary.ts), for the OpenAPI
// document and the typed client; checked by test/worker/openapi.test.ts.

export const networkSummarySchema = z.object({
  generatedAt: isoTime,
  nodes: z.object({ online: z.number().int(), offline: z.number().int(), simulatedOnline: z.number().int() }),
  gpus: z.object({ online: z.number().int(), simulatedOnline: z.number().int() }),
  models: z.array(
    z.object({
      model: z.string(),
      gpus: z.number().int(),
      simulatedGpus: z.number().int(),
      nodes: z.number().int(),
      medianPricePerGpuHour: amountText,
    }),
  ),
  countries: z.array(z.object({ country: z.string(), nodes: z.number().int(), gpus: z.number().int(), simulatedNodes: z.number().int() })),
  dots: z
    .array(z.tuple([z.number(), z.number(), z.number().int(), z.union([z.literal(0), z.literal(1)]), z.number().int()]))
    .describe('[lat, lon, gpus, simulated (0/1), nodes]: online nodes within one degree grouped at their mean position.'),
});
