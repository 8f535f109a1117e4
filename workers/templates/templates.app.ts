import { Hono } from 'hono';
import type * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import type { templateListSchema } from './template-view.schema.ts';
import { TEMPLATES } from './templates.ts';

// GET /v1/templates: what a rental can be for (issue 15), the same catalogue the chats offer.
// Public and static: the catalogue is data in templates.ts, checked when the module loads.

const list: z.output<typeof templateListSchema> = {
  templates: TEMPLATES.map((t) => ({
    id: t.id,
    name: t.name,
    summary: t.summary,
    image: t.image,
    command: t.command,
    port: t.port,
    healthPath: t.healthPath,
    env: t.env,
    access: t.access,
    minVramMb: t.minVramMb,
    pathPrefix: t.pathPrefix,
    connect: t.connect,
  })),
};

export const templatesApp = new Hono<AppEnv>().get('/', (c) => c.json(list));
