import { Hono, type Context } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { requireAccount } from '../accounts/require-account.ts';
import { validate } from '../http/body.ts';
import { jsonInput, paramInput, queryInput } from '../http/validator.ts';
import { PARAM_DEFS, PARAM_NAMES } from './param-defs.ts';
import { readParams, storedParams } from './params.repo.ts';
import { formatAmount } from '../lib/amounts.ts';
import type { AnnounceProposal } from './governance-deps.ts';
import { createProposal, listProposalViews, showProposal, voteOnProposal, type GovernanceDeps } from './governance.service.ts';
import { listQuerySchema, proposalRefSchema, voteSchema } from './proposal-input.schema.ts';

/** The proposal before the body, with the answer it always had (a bad ref: `body: …`). */
const refParam = paramInput(z.object({ ref: proposalRefSchema }), { unnamed: true });

function deps(c: Context<AppEnv>, announce: AnnounceProposal): GovernanceDeps {
  return {
    db: c.var.db,
    config: c.var.config,
    env: c.env,
    announce,
    defer: (promise) => {
      const logged = promise.catch((error) => console.error('governance: deferred work failed', error));
      try {
        c.executionCtx.waitUntil(logged);
      } catch {
        // No execution context (app.fetch without one): the promise runs on its own.
      }
    },
  };
}

/** The routes, announcing through `announce` (the bots' port, wired by workers/app.ts). */
export function governanceApp(announce: AnnounceProposal) {
  return new Hono<AppEnv>()
    .get('/params', async (c) => {
      const decimals = c.var.config.TOKEN_DECIMALS;
      const [values, stored] = await Promise.all([readParams(c.var.db, c.var.config), storedParams(c.var.db)]);
      const source = new Map(stored.map((r) => [r.name, r]));
      return c.json({
        params: PARAM_NAMES.map((name) => {
          const def = PARAM_DEFS[name];
          const row = source.get(name);
          return {
            name,
            unit: def.unit,
            description: def.description,
            value: def.unit === 'amount' ? formatAmount(values[name], decimals) : values[name],
            source: row ? { proposalId: row.proposalId, updatedAt: new Date(row.updatedAt).toISOString() } : 'default',
          };
        }),
      });
    })

    .get('/proposals', queryInput(listQuerySchema, { firstValue: true }), async (c) => {
      const query = c.req.valid('query');
      return c.json(await listProposalViews(deps(c, announce), { status: query.status, beforeNumber: query.before, limit: query.limit }));
    })

    .get('/proposals/:ref', async (c) => {
      return c.json(await showProposal(deps(c, announce), validate(proposalRefSchema, c.req.param('ref'))));
    })

    .post('/proposals', requireAccount, jsonInput(z.unknown(), { anyContentType: true }), async (c) => {
      const body = c.req.valid('json');
      return c.json(await createProposal(deps(c, announce), c.var.account.id, body), 201);
    })

    .post('/proposals/:ref/votes', requireAccount, refParam, jsonInput(voteSchema, { anyContentType: true }), async (c) => {
      const { ref } = c.req.valid('param');
      const body = c.req.valid('json');
      const result = await voteOnProposal(deps(c, announce), {
        proposalRef: ref,
        accountId: c.var.account.id,
        choice: body.choice,
        via: 'api',
      });
      return c.json({
        vote: { choice: result.choice, power: formatAmount(result.power, c.var.config.TOKEN_DECIMALS), replaced: result.replaced },
        proposal: result.proposal,
      });
    });
}
