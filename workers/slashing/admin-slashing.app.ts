import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { requireAdmin } from '../auth/admin-auth.ts';
import { badRequest } from '../errors.ts';
import { jsonInput } from '../http/validator.ts';
import { nodeIdSchema } from '../nodes/node-input.schema.ts';
import { slashView } from '../staking/staking-view.ts';
import { checkContradiction } from './contradictory-reports.ts';
import { abandonedJobKey, recordOffence } from './offences.ts';

// POST /v1/admin/staking/offences: an admin records an offence with its evidence. Mounted beside
// staking's admin routes (same prefix); it lives here because slashing sits above staking.

const signedReport = z.strictObject({
  method: z.string().max(10),
  path: z.string().max(500),
  headers: z.record(z.string(), z.string().max(200)),
  body: z.string().max(60_000),
});

const offenceSchema = z.discriminatedUnion('offence', [
  z.strictObject({
    offence: z.literal('abandoned_job'),
    nodeId: nodeIdSchema,
    jobId: z.string().min(1).max(80),
    evidence: z.record(z.string(), z.unknown()).default({}),
  }),
  z.strictObject({ offence: z.literal('contradictory_reports'), reports: z.tuple([signedReport, signedReport]) }),
]);

export const adminSlashingApp = new Hono<AppEnv>()
  .use(requireAdmin)

  .post('/offences', jsonInput(offenceSchema, { anyContentType: true }), async (c) => {
    const body = c.req.valid('json');
    if (body.offence === 'abandoned_job') {
      const row = await recordOffence(c.var.db, c.var.config, {
        nodeId: body.nodeId,
        offence: 'abandoned_job',
        dedupeKey: abandonedJobKey(body.jobId),
        evidence: { jobId: body.jobId, ...body.evidence },
      });
      return c.json(slashView(row, c.var.config.TOKEN_DECIMALS), 201);
    }
    const check = await checkContradiction(body.reports[0], body.reports[1]);
    if (!check.ok) throw badRequest('invalid_evidence', `The reports do not prove a contradiction: ${check.reason}.`);
    const row = await recordOffence(c.var.db, c.var.config, {
      nodeId: check.nodeId,
      offence: 'contradictory_reports',
      dedupeKey: check.key,
      evidence: { reports: body.reports },
    });
    return c.json(slashView(row, c.var.config.TOKEN_DECIMALS), 201);
  });
