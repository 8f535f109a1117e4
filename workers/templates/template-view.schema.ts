import * as z from 'zod';

// GET /v1/templates: the catalogue (templates.ts) as the API shows it, for the OpenAPI document
// and the typed client. The simulated stand-in's command is left out: it is the test runtime's.

const connectLine = z.object({
  label: z.string(),
  text: z.string().describe("With {url}, {token} and {key} where the rental's values go."),
});

export const templateViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  summary: z.string(),
  image: z.string().nullable().describe('null: the renter names the image (the custom template).'),
  command: z.array(z.string()),
  port: z.number().int(),
  healthPath: z.string(),
  env: z.record(z.string(), z.string()).describe('{token} is replaced by a fresh random token per rental, {origin} by the public origin.'),
  access: z
    .enum(['token', 'key'])
    .describe('token: the server checks its own generated token (open at the gateway, for browsers); key: callers send the endpoint key.'),
  minVramMb: z.number().int(),
  pathPrefix: z
    .enum(['strip', 'keep'])
    .describe("keep: the server gets the whole /e/{id}/… path and serves under GRIDPLANE_BASE_PATH (Jupyter's base_url)."),
  connect: z.array(connectLine).describe('What the renter is shown; the first line is the one command to connect.'),
});

export const templateListSchema = z.object({ templates: z.array(templateViewSchema) });
