import * as z from 'zod';

/** What GET / answers a tool (home.app.ts); browsers get the explorer page. */
export const indexSchema = z.object({
  name: z.literal('gridplane'),
  description: z.string(),
  environment: z.string(),
  protocol: z.literal('v1'),
  links: z.record(z.string(), z.string()),
});
