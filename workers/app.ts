import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { dbOf, type AppEnv } from './app-env.ts';
import { getConfig } from './config.ts';
import { AppError, errorBody, noRoute } from './errors.ts';
import { limitUnauthenticated } from './limits/rate-limit.ts';
import { nodesApp } from './nodes/nodes.app.ts';
import { adminProbesApp, probesApp } from './probes/probes.app.ts';
import { homeApp } from './home/home.app.ts';
import { openApiApp } from './openapi/openapi.app.ts';
import { adminShardsApp } from './live/shards.app.ts';
import { adminNodesApp } from './nodes/suspension.app.ts';
import { explorerApp } from './explorer/explorer.app.ts';
import { linkApp } from './link/link.app.ts';
import { payPageApp } from './settlement/pay-page.app.ts';
import { networkApp } from './explorer/network.app.ts';
import { agentJobsApp } from './jobs/agent-jobs.app.ts';
import { tunnelApp } from './tunnel/tunnel.app.ts';
import { jobsApp } from './jobs/jobs.app.ts';
import { jobsDevApp } from './jobs/jobs-dev.app.ts';
import { quotesApp } from './jobs/quotes.app.ts';
import { accountsApp } from './accounts/accounts.app.ts';
import { depositsApp } from './settlement/deposits.app.ts';
import { apiKeysApp } from './accounts/api-keys.app.ts';
import { siwsApp } from './accounts/siws.app.ts';
import { devApp } from './dev/dev.app.ts';
import { adminLedgerApp } from './ledger/ledger.app.ts';
import { stakingApp } from './staking/staking.app.ts';
import { adminStakingApp } from './staking/admin-staking.app.ts';
import { adminSlashingApp } from './slashing/admin-slashing.app.ts';
import { adminRewardsApp } from './rewards/admin-rewards.app.ts';
import { challengesApp } from './verification/challenges.app.ts';
import { governanceApp } from './governance/governance.app.ts';
import { discordApp } from '../bots/discord/discord.app.ts';
import { telegramApp } from '../bots/telegram/telegram.app.ts';
import { gatewayApp } from './gateway/gateway.app.ts';
import { endpointsApp } from './endpoints/endpoints.app.ts';
import { templatesApp } from './templates/templates.app.ts';
import { botPorts } from '../bots/ports.ts';

export const app = new Hono<AppEnv>()
  .use(async (c, next) => {
    c.set('config', getConfig(c.env));
    c.set('db', dbOf(c.env));
    await next();
  })
  .use(limitUnauthenticated)
  .route('/', homeApp)
  .route('/', openApiApp)
  .route('/v1/nodes', nodesApp)
  .route('/v1/nodes', challengesApp)
  .route('/v1/staking', stakingApp)
  .route('/v1/admin/staking', adminStakingApp)
  .route('/v1/admin/staking', adminSlashingApp)
  .route('/v1/admin/staking', adminRewardsApp)
  .route('/v1/nodes', agentJobsApp)
  .route('/v1/nodes', tunnelApp)
  .route('/v1/quotes', quotesApp)
  .route('/v1/jobs', jobsApp)
  .route('/v1/dev/jobs', jobsDevApp)
  .route('/v1/endpoints', endpointsApp)
  .route('/v1/templates', templatesApp)
  .route('/v1/probes', probesApp)
  .route('/v1/admin/probes', adminProbesApp)
  .route('/v1/admin/shards', adminShardsApp)
  .route('/v1/admin/nodes', adminNodesApp)
  .route('/v1/network', networkApp)
  .route('/v1/auth/siws', siwsApp)
  .route('/v1/accounts/me/deposits', depositsApp) // before accountsApp: its own requireAccount, run once
  .route('/v1/accounts/me/api-keys', apiKeysApp) // before accountsApp, as deposits
  .route('/v1/accounts', accountsApp)
  .route('/v1/dev', devApp)
  .route('/v1/admin/ledger', adminLedgerApp)
  .route('/v1/governance', governanceApp(botPorts.announceProposal))
  .route('/discord', discordApp)
  .route('/telegram', telegramApp)
  .route('/link', linkApp)
  .route('/pay', payPageApp) // the chats' deposit links: a page that opens the wallet, and its QR code
  .route('/e', gatewayApp) // endpoint URLs: any method and path pass through to a replica
  .route('/', explorerApp);

app.notFound((c) => {
  const error = noRoute(c.req.method, new URL(c.req.url).pathname);
  return c.json(errorBody(error.code, error.message), 404);
});

app.onError((err, c) => {
  if (err instanceof AppError) {
    if (err.internal) console.error(err.code, err.internal);
    return c.json(errorBody(err.code, err.message), err.status, err.headers);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return c.json(errorBody('bad_request', err.message || 'The request could not be understood.'), err.status);
  }
  console.error('unhandled error', err);
  return c.json(errorBody('internal_error', 'Something went wrong on our side; the request changed nothing.'), 500);
});

export type AppType = typeof app;
