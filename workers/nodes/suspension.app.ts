import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { validate } from '../http/body.ts';
import { jsonInput, paramInput } from '../http/validator.ts';
import { nodeIdSchema } from './node-input.schema.ts';
import { suspendNode, unsuspendNode } from './suspension.service.ts';

// The admin's suspension routes (README.md, "Suspension"): POST /v1/admin/nodes/{id}/suspend
// with { reason }, and …/unsuspend. What suspending does is suspension.service.ts.

const suspendSchema = z.strictObject({
  reason: z.string().trim().min(1, 'must say why').max(500, 'must be at most 500 characters'),
});

/** The node id before the body, with the answer it always had (a bad id: `body: …`). */
const nodeParam = paramInput(z.object({ nodeId: nodeIdSchema }), { unnamed: true });

export const adminNodesApp = new Hono<AppEnv>()
  .use(requireAdmin)
  .post('/:nodeId/suspend', nodeParam, jsonInput(suspendSchema, { anyContentType: true }), async (c) => {
    const { nodeId } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const result = await suspendNode({ db: c.var.db, env: c.env, config: c.var.config }, nodeId, reason, Date.now());
    return c.json(result);
  })
  .post('/:nodeId/unsuspend', async (c) => {
    const nodeId = validate(nodeIdSchema, c.req.param('nodeId'));
    return c.json(await unsuspendNode({ db: c.var.db, env: c.env, config: c.var.config }, nodeId, Date.now()));
  });
