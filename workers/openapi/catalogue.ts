import * as z from 'zod';
import { apiKeyListSchema, apiKeyRevokedSchema, balanceResponseSchema, entriesResponseSchema, meResponseSchema, siwsChallengeResponseSchema, siwsVerifyResponseSchema } from '../accounts/account-view.schema.ts';
import { challengeSchema, entriesQuerySchema, quoteQuerySchema, verifySchema, withdrawalSchema } from '../accounts/account-input.schema.ts';
import { API_KEY_PREFIX_PATTERN } from '../accounts/api-keys.ts';
import { endpointIdParam, endpointKeyParam } from '../endpoints/endpoints.app.ts';
import { endpointCreateSchema, endpointKeyCreateSchema, endpointListQuerySchema, endpointPatchSchema } from '../endpoints/endpoint-input.schema.ts';
import { endpointDetailSchema, endpointKeyCreatedSchema, endpointKeyListSchema, endpointKeyViewSchema, endpointListSchema, endpointViewSchema } from '../endpoints/endpoint-view.schema.ts';
import { networkSummarySchema } from '../explorer/summary.schema.ts';
import { templateListSchema } from '../templates/template-view.schema.ts';
import { paramListSchema, proposalListSchema, proposalViewSchema, voteResponseSchema } from '../governance/governance-view.schema.ts';
import { createProposalSchema, listQuerySchema as proposalListQuerySchema, proposalRefSchema, voteSchema } from '../governance/proposal-input.schema.ts';
import { indexSchema } from '../home/index.schema.ts';
import { jobRequestSchema, listJobsQuerySchema, logsQuerySchema, quoteRequestSchema } from '../jobs/job-input.schema.ts';
import { jobListSchema, jobLogsSchema, jobViewSchema, quoteResponseSchema } from '../jobs/job-view.schema.ts';
import { withdrawalCreatedSchema, withdrawalListSchema, withdrawalQuoteSchema } from '../ledger/ledger-view.schema.ts';
import { listNodesQuerySchema, nodeIdSchema } from '../nodes/node-input.schema.ts';
import { nodeListSchema, nodeViewSchema, probePointsSchema } from '../nodes/node-view.schema.ts';
import { depositCheckSchema, depositListSchema, depositRequestSchema } from '../settlement/deposit-view.schema.ts';
import { newDepositSchema, referenceParam } from '../settlement/deposit-input.schema.ts';
import { commissionBodySchema, pageQuerySchema, slashQuerySchema, stakeBodySchema } from '../staking/staking-input.schema.ts';
import {
  accountRewardsSchema,
  commissionSchema,
  epochViewSchema,
  nodeEpochSharesSchema,
  nodeRewardsSchema,
  nodeStakingSchema,
  slashListSchema,
  stakeResponseSchema,
  unstakeResponseSchema,
} from '../staking/staking-view.schema.ts';
import type { ErrorCase, Operation } from './operation.ts';

// Every public route of the API, for GET /openapi.json (document.ts) and the typed client
// (clients/typescript). Inputs are the schemas the routes validate with, imported from the
// route or schema files; responses are the domain's response schemas. test/worker/openapi.test.ts
// fails when a registered route is neither here nor in not-documented.ts, and checks the response
// schemas against real answers. A route added without an entry here fails that test.

const ok = (schema: z.ZodType, description = 'OK') => ({ status: 200, description, schema });
const created = (schema: z.ZodType, description = 'Created') => ({ status: 201, description, schema });
const replayed = (schema: z.ZodType) => ({ status: 200, description: 'A repeat of an earlier request with the same Idempotency-Key: the same result, header Idempotent-Replayed: true.', schema });

const err = (status: number, code: string, when: string): ErrorCase => ({ status, code, when });
const settlementErrors = [
  err(503, 'settlement_unavailable', 'on-chain settlement is not configured on this deployment'),
  err(502, 'solana_rpc_unavailable', 'the Solana RPC failed or timed out'),
  err(502, 'solana_wrong_cluster', 'the Solana RPC serves another cluster than configured'),
];
const nodeParam = z.object({ nodeId: nodeIdSchema });
const endpointNotFound = err(404, 'endpoint_not_found', 'no such endpoint for this account');
const notJson = err(415, 'unsupported_media_type', 'a body sent without Content-Type: application/json');
const epochParam = z.object({ epoch: pageQuerySchema.shape.beforeEpoch.unwrap() });

export const catalogue: Operation[] = [
  // Service
  { operationId: 'getIndex', method: 'get', path: '/', tag: 'service', summary: 'What this is and where the API starts', description: 'A browser (Accept: text/html) gets the explorer page instead.', auth: 'none', alsoHtml: true, responses: [ok(indexSchema)], errors: [] },
  { operationId: 'getHealth', method: 'get', path: '/health', tag: 'service', summary: 'Liveness', auth: 'none', responses: [ok(z.object({ ok: z.literal(true) }))], errors: [] },

  // Network
  { operationId: 'listNodes', method: 'get', path: '/v1/nodes', tag: 'nodes', summary: 'Nodes, filtered, one page', auth: 'none', query: listNodesQuerySchema, responses: [ok(nodeListSchema)], errors: [] },
  { operationId: 'getNode', method: 'get', path: '/v1/nodes/{nodeId}', tag: 'nodes', summary: 'One node, with its last heartbeat\'s readings', auth: 'none', params: nodeParam, responses: [ok(nodeViewSchema)], errors: [err(404, 'not_found', 'no such node')] },
  { operationId: 'listProbes', method: 'get', path: '/v1/probes', tag: 'nodes', summary: 'The probe points agents measure round-trip times to', auth: 'none', responses: [ok(probePointsSchema)], errors: [] },
  { operationId: 'getNetworkSummary', method: 'get', path: '/v1/network/summary', tag: 'nodes', summary: 'Totals by status, model and country, and the map\'s dots', auth: 'none', responses: [ok(networkSummarySchema)], errors: [] },

  // Quotes and jobs
  {
    operationId: 'createQuote', method: 'post', path: '/v1/quotes', tag: 'jobs', summary: 'Nodes that could run a job, best first', auth: 'none', body: quoteRequestSchema, responses: [ok(quoteResponseSchema)],
    errors: [err(400, 'client_location_required', 'no `client` and no edge location on the request')],
  },
  { operationId: 'listJobs', method: 'get', path: '/v1/jobs', tag: 'jobs', summary: 'The account\'s jobs, newest first', auth: 'apiKey', query: listJobsQuerySchema, responses: [ok(jobListSchema)], errors: [] },
  {
    operationId: 'submitJob', method: 'post', path: '/v1/jobs', tag: 'jobs', summary: 'Submit a job: placed on the best node, its price held in escrow', auth: 'apiKey', body: jobRequestSchema, idempotent: true,
    responses: [created(jobViewSchema, 'The job, placed and its escrow held'), replayed(jobViewSchema)],
    errors: [
      err(400, 'client_location_required', 'no `client` and no edge location on the request'),
      err(402, 'insufficient_funds', 'the balance cannot cover the escrow'),
      err(409, 'no_capacity', 'no eligible node can take the job now'),
    ],
  },
  { operationId: 'getJob', method: 'get', path: '/v1/jobs/{id}', tag: 'jobs', summary: 'A job, its bill and its history', auth: 'apiKey', params: z.object({ id: z.string() }), responses: [ok(jobViewSchema)], errors: [err(404, 'job_not_found', 'no such job for this account')] },
  {
    operationId: 'cancelJob', method: 'post', path: '/v1/jobs/{id}/cancel', tag: 'jobs', summary: 'Cancel a job: what it used is billed, the rest refunded', auth: 'apiKey', params: z.object({ id: z.string() }), responses: [ok(jobViewSchema)],
    errors: [err(404, 'job_not_found', 'no such job for this account'), err(409, 'job_closed', 'the job has already ended'), err(409, 'job_busy', 'the job changed at the same moment; retry')],
  },
  {
    operationId: 'getJobLogs', method: 'get', path: '/v1/jobs/{id}/logs', tag: 'jobs', summary: 'A job\'s output after a sequence number', auth: 'apiKey', params: z.object({ id: z.string() }), query: logsQuerySchema, responses: [ok(jobLogsSchema)],
    errors: [err(404, 'job_not_found', 'no such job for this account')],
  },

  // Templates: what a rental can be for (workers/templates/templates.ts), as the chats offer them
  { operationId: 'listTemplates', method: 'get', path: '/v1/templates', tag: 'endpoints', summary: 'Rental templates: a notebook, a chat model, a shell, your own image', auth: 'none', responses: [ok(templateListSchema)], errors: [] },

  // Inference endpoints (workers/endpoints/README.md); callers reach them at /e/{id}/… (PROTOCOL.md "Endpoint URL")
  {
    operationId: 'createEndpoint', method: 'post', path: '/v1/endpoints', tag: 'endpoints', summary: 'Deploy an HTTP server as replicas on GPU nodes, at one URL',
    description: 'Records what the renter wants; the next cron tick (or the first request to the URL) places replicas and holds their price from the balance. Refused (402) when the balance cannot fund that first hold.',
    auth: 'apiKey', body: endpointCreateSchema, idempotent: true,
    responses: [created(endpointViewSchema, 'The endpoint, recorded'), replayed(endpointViewSchema)],
    errors: [err(402, 'insufficient_funds', 'the balance cannot fund the first hold: max(min, 1) replicas × GPUs × the price cap for ENDPOINT_HOLD_AHEAD_S'), err(409, 'too_many_endpoints', 'the account has the most endpoints it may have'), notJson],
  },
  { operationId: 'listEndpoints', method: 'get', path: '/v1/endpoints', tag: 'endpoints', summary: 'The account\'s endpoints (deleted ones left out), newest first', auth: 'apiKey', query: endpointListQuerySchema, responses: [ok(endpointListSchema)], errors: [] },
  {
    operationId: 'getEndpoint', method: 'get', path: '/v1/endpoints/{id}', tag: 'endpoints', summary: 'An endpoint with its replicas (where, ready or not), recent traffic and hold', auth: 'apiKey', params: endpointIdParam,
    responses: [ok(endpointDetailSchema)], errors: [endpointNotFound],
  },
  {
    operationId: 'updateEndpoint', method: 'patch', path: '/v1/endpoints/{id}', tag: 'endpoints', summary: 'Scale, roll out a new image, open or close it, or restart a stopped one',
    description: 'Only the fields sent change. A new image, command or env rolls the replicas over one by one; `status: "active"` restarts an endpoint stopped for lack of funds.',
    auth: 'apiKey', params: endpointIdParam, body: endpointPatchSchema, responses: [ok(endpointViewSchema)],
    errors: [endpointNotFound, err(409, 'endpoint_changed', 'the endpoint changed at the same moment; read it again and retry'), notJson],
  },
  {
    operationId: 'deleteEndpoint', method: 'delete', path: '/v1/endpoints/{id}', tag: 'endpoints', summary: 'Delete: replicas stop, their time is billed to the end, the rest of the hold goes back', auth: 'apiKey', params: endpointIdParam,
    responses: [ok(endpointViewSchema)], errors: [endpointNotFound, err(409, 'endpoint_changed', 'the endpoint changed at the same moment; retry')],
  },
  {
    operationId: 'createEndpointKey', method: 'post', path: '/v1/endpoints/{id}/keys', tag: 'endpoints', summary: 'A key callers send to the endpoint URL (shown once)', auth: 'apiKey', params: endpointIdParam, body: endpointKeyCreateSchema,
    responses: [created(endpointKeyCreatedSchema)],
    errors: [endpointNotFound, err(409, 'endpoint_deleted', 'the endpoint is deleted'), err(409, 'too_many_keys', 'the endpoint has the most live keys it may have'), notJson],
  },
  { operationId: 'listEndpointKeys', method: 'get', path: '/v1/endpoints/{id}/keys', tag: 'endpoints', summary: 'The endpoint\'s live keys (never the keys themselves)', auth: 'apiKey', params: endpointIdParam, responses: [ok(endpointKeyListSchema)], errors: [endpointNotFound] },
  {
    operationId: 'revokeEndpointKey', method: 'delete', path: '/v1/endpoints/{id}/keys/{keyId}', tag: 'endpoints', summary: 'Revoke a key: the URL refuses it within about 2 s', auth: 'apiKey', params: endpointKeyParam,
    responses: [ok(endpointKeyViewSchema)], errors: [endpointNotFound, err(404, 'key_not_found', 'no live key with this id on the endpoint')],
  },

  // Sign-in and the account
  {
    operationId: 'siwsChallenge', method: 'post', path: '/v1/auth/siws/challenge', tag: 'accounts', summary: 'A Sign-In With Solana message for a wallet to sign', auth: 'none', body: challengeSchema, responses: [created(siwsChallengeResponseSchema)],
    errors: [err(409, 'link_token_invalid', 'the link token is unknown, used or expired'), err(429, 'too_many_challenges', 'the wallet has 5 unsigned challenges waiting')],
  },
  {
    operationId: 'siwsVerify', method: 'post', path: '/v1/auth/siws/verify', tag: 'accounts', summary: 'Exchange the signed message for an API key', auth: 'none', body: verifySchema, responses: [ok(siwsVerifyResponseSchema)],
    errors: [
      err(400, 'invalid_message', 'not a sign-in message as issued'),
      err(401, 'wrong_domain', 'issued for another domain'),
      err(401, 'wrong_chain', 'names another Solana cluster'),
      err(401, 'message_expired', 'the message has expired'),
      err(401, 'message_not_yet_valid', 'the message is not valid yet'),
      err(401, 'bad_signature', 'the signature does not match the wallet and message'),
      err(401, 'nonce_invalid', 'the challenge is unknown, used, expired or changed'),
      err(409, 'link_token_invalid', 'the link token is unknown, used or expired'),
    ],
  },
  { operationId: 'getMe', method: 'get', path: '/v1/accounts/me', tag: 'accounts', summary: 'The signed-in account', auth: 'apiKey', responses: [ok(meResponseSchema)], errors: [] },
  { operationId: 'getBalance', method: 'get', path: '/v1/accounts/me/balance', tag: 'accounts', summary: 'The account\'s balance', auth: 'apiKey', responses: [ok(balanceResponseSchema)], errors: [] },
  { operationId: 'listEntries', method: 'get', path: '/v1/accounts/me/entries', tag: 'accounts', summary: 'The account\'s ledger entries, newest first', auth: 'apiKey', query: entriesQuerySchema, responses: [ok(entriesResponseSchema)], errors: [] },

  { operationId: 'listApiKeys', method: 'get', path: '/v1/accounts/me/api-keys', tag: 'accounts', summary: 'The account\'s live API keys (never the keys themselves)', auth: 'apiKey', responses: [ok(apiKeyListSchema)], errors: [] },
  {
    operationId: 'revokeApiKey', method: 'delete', path: '/v1/accounts/me/api-keys/{prefix}', tag: 'accounts', summary: 'Revoke one of the account\'s API keys', auth: 'apiKey',
    params: z.object({ prefix: z.string().regex(API_KEY_PREFIX_PATTERN, 'must be a key prefix as GET /v1/accounts/me/api-keys lists it') }),
    responses: [ok(apiKeyRevokedSchema)], errors: [err(404, 'not_found', 'no live key with this prefix on this account')],
  },
  // Money
  {
    operationId: 'createDeposit', method: 'post', path: '/v1/accounts/me/deposits', tag: 'money', summary: 'A Solana Pay transfer request that credits this account', auth: 'apiKey', body: newDepositSchema, bodyOptional: true,
    responses: [created(depositRequestSchema)],
    errors: [err(409, 'too_many_open_deposit_references', 'the account holds the most open references it may'), settlementErrors[0]!],
  },
  { operationId: 'listDeposits', method: 'get', path: '/v1/accounts/me/deposits', tag: 'money', summary: 'The account\'s deposit references and deposits', auth: 'apiKey', responses: [ok(depositListSchema)], errors: [] },
  {
    operationId: 'checkDeposit', method: 'post', path: '/v1/accounts/me/deposits/{reference}/check', tag: 'money', summary: 'Look for payments under a reference now and credit them', auth: 'apiKey', params: z.object({ reference: referenceParam }),
    responses: [ok(depositCheckSchema)], errors: [err(404, 'not_found', 'no such reference for this account'), ...settlementErrors],
  },
  {
    operationId: 'quoteWithdrawal', method: 'get', path: '/v1/accounts/me/withdrawals/quote', tag: 'money', summary: 'What a withdrawal would cost and deliver', auth: 'apiKey', query: quoteQuerySchema, responses: [ok(withdrawalQuoteSchema)],
    errors: [err(400, 'amount_below_minimum', 'less than the minimum withdrawal'), ...settlementErrors],
  },
  {
    operationId: 'createWithdrawal', method: 'post', path: '/v1/accounts/me/withdrawals', tag: 'money', summary: 'Withdraw to a wallet: paid on chain in the next batch', auth: 'apiKey', body: withdrawalSchema, idempotent: true,
    responses: [created(withdrawalCreatedSchema), replayed(withdrawalCreatedSchema)],
    errors: [err(400, 'amount_below_minimum', 'less than the minimum withdrawal'), err(402, 'insufficient_funds', 'the balance is too low'), err(409, 'fee_changed', 'the fee is now above maxFee'), ...settlementErrors],
  },
  { operationId: 'listWithdrawals', method: 'get', path: '/v1/accounts/me/withdrawals', tag: 'money', summary: 'The account\'s last 50 withdrawals', auth: 'apiKey', responses: [ok(withdrawalListSchema)], errors: [] },

  // Staking
  ...(['stake', 'delegate'] as const).map(
    (verb): Operation => ({
      operationId: verb === 'stake' ? 'stake' : 'delegate', method: 'post', path: `/v1/staking/${verb}`, tag: 'staking',
      summary: verb === 'stake' ? 'Bond stake on a node you operate' : 'Delegate stake to someone else\'s node', auth: 'apiKey', body: stakeBodySchema, idempotent: true,
      responses: [created(stakeResponseSchema), replayed(stakeResponseSchema)],
      errors: [
        err(404, 'node_not_found', 'no such node'),
        ...(verb === 'stake' ? [err(403, 'not_operator', 'the node is owned by another wallet')] : [err(409, 'operator_cannot_delegate', 'the node is your own: stake on it instead')]),
        err(402, 'insufficient_funds', 'the balance is too low'),
      ],
    }),
  ),
  {
    operationId: 'unstake', method: 'post', path: '/v1/staking/unstake', tag: 'staking', summary: 'Start unbonding stake', auth: 'apiKey', body: stakeBodySchema, idempotent: true,
    responses: [created(unstakeResponseSchema), replayed(unstakeResponseSchema)],
    errors: [err(404, 'node_not_found', 'no such node'), err(409, 'insufficient_stake', 'more than is bonded, or held by a pending slash')],
  },
  {
    operationId: 'setCommission', method: 'put', path: '/v1/staking/nodes/{nodeId}/commission', tag: 'staking', summary: 'Set the commission delegators pay, from a later epoch', auth: 'apiKey', params: nodeParam, body: commissionBodySchema,
    responses: [ok(commissionSchema)], errors: [err(404, 'node_not_found', 'no such node'), err(403, 'not_operator', 'the node is owned by another wallet'), err(400, 'commission_too_high', 'over the governance maximum')],
  },
  { operationId: 'getNodeStaking', method: 'get', path: '/v1/staking/nodes/{nodeId}', tag: 'staking', summary: 'A node\'s stake, stakers and commission', auth: 'none', params: nodeParam, responses: [ok(nodeStakingSchema)], errors: [err(404, 'node_not_found', 'no such node')] },
  { operationId: 'getNodeRewards', method: 'get', path: '/v1/staking/nodes/{nodeId}/rewards', tag: 'staking', summary: 'A node\'s rewards by epoch', auth: 'none', params: nodeParam, query: pageQuerySchema, responses: [ok(nodeRewardsSchema)], errors: [] },
  { operationId: 'getNodeEpochShares', method: 'get', path: '/v1/staking/nodes/{nodeId}/rewards/{epoch}', tag: 'staking', summary: 'How a node\'s reward for one epoch was shared', auth: 'none', params: nodeParam.extend(epochParam.shape), responses: [ok(nodeEpochSharesSchema)], errors: [] },
  { operationId: 'getMyRewards', method: 'get', path: '/v1/staking/rewards', tag: 'staking', summary: 'The account\'s reward shares', auth: 'apiKey', query: pageQuerySchema, responses: [ok(accountRewardsSchema)], errors: [] },
  { operationId: 'listSlashes', method: 'get', path: '/v1/staking/slashes', tag: 'staking', summary: 'Slashes, newest first', auth: 'none', query: slashQuerySchema, responses: [ok(slashListSchema)], errors: [] },
  { operationId: 'getEpoch', method: 'get', path: '/v1/staking/epochs/{epoch}', tag: 'staking', summary: 'One reward epoch', auth: 'none', params: epochParam, responses: [ok(epochViewSchema)], errors: [err(404, 'not_found', 'no such epoch')] },

  // Governance
  { operationId: 'getParams', method: 'get', path: '/v1/governance/params', tag: 'governance', summary: 'Governed parameters and where each value came from', auth: 'none', responses: [ok(paramListSchema)], errors: [] },
  { operationId: 'listProposals', method: 'get', path: '/v1/governance/proposals', tag: 'governance', summary: 'Proposals, newest first', auth: 'none', query: proposalListQuerySchema, responses: [ok(proposalListSchema)], errors: [] },
  {
    operationId: 'createProposal', method: 'post', path: '/v1/governance/proposals', tag: 'governance', summary: 'Open a proposal', auth: 'apiKey', body: createProposalSchema, responses: [created(proposalViewSchema)],
    errors: [
      err(400, 'unknown_param', 'a parameter governance cannot change'),
      err(400, 'invalid_param_value', 'a value outside the parameter\'s bounds'),
      err(400, 'unknown_recipient', 'a grant to an unknown account or a bad address'),
      err(403, 'insufficient_stake', 'less bonded stake than proposal_min_stake'),
    ],
  },
  { operationId: 'getProposal', method: 'get', path: '/v1/governance/proposals/{ref}', tag: 'governance', summary: 'A proposal and its tally', auth: 'none', params: z.object({ ref: proposalRefSchema }), responses: [ok(proposalViewSchema)], errors: [err(404, 'not_found', 'no such proposal')] },
  {
    operationId: 'voteOnProposal', method: 'post', path: '/v1/governance/proposals/{ref}/votes', tag: 'governance', summary: 'Vote, or change your vote', auth: 'apiKey', params: z.object({ ref: proposalRefSchema }), body: voteSchema, responses: [ok(voteResponseSchema)],
    errors: [err(404, 'not_found', 'no such proposal'), err(409, 'voting_closed', 'voting has ended'), err(403, 'no_voting_power', 'no bonded stake when the proposal opened')],
  },
];

