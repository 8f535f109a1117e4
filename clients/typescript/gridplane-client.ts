import type { z } from 'zod';
import type {
  apiKeyListSchema,
  apiKeyRevokedSchema,
  balanceResponseSchema,
  entriesResponseSchema,
  meResponseSchema,
  siwsChallengeResponseSchema,
  siwsVerifyResponseSchema,
} from '../../workers/accounts/account-view.schema.ts';
import type {
  challengeSchema,
  entriesQuerySchema,
  quoteQuerySchema,
  verifySchema,
  withdrawalSchema,
} from '../../workers/accounts/account-input.schema.ts';
import type {
  endpointCreateSchema,
  endpointKeyCreateSchema,
  endpointListQuerySchema,
  endpointPatchSchema,
} from '../../workers/endpoints/endpoint-input.schema.ts';
import type { templateListSchema } from '../../workers/templates/template-view.schema.ts';
import type {
  endpointDetailSchema,
  endpointKeyCreatedSchema,
  endpointKeyListSchema,
  endpointKeyViewSchema,
  endpointListSchema,
  endpointViewSchema,
} from '../../workers/endpoints/endpoint-view.schema.ts';
import type { networkSummarySchema } from '../../workers/explorer/summary.schema.ts';
import type {
  paramListSchema,
  proposalListSchema,
  proposalViewSchema,
  voteResponseSchema,
} from '../../workers/governance/governance-view.schema.ts';
import type {
  createProposalSchema,
  listQuerySchema as proposalListQuerySchema,
  voteSchema,
} from '../../workers/governance/proposal-input.schema.ts';
import type { indexSchema } from '../../workers/home/index.schema.ts';
import type { jobRequestSchema, listJobsQuerySchema, logsQuerySchema, quoteRequestSchema } from '../../workers/jobs/job-input.schema.ts';
import type { jobListSchema, jobLogsSchema, jobViewSchema, quoteResponseSchema } from '../../workers/jobs/job-view.schema.ts';
import type { withdrawalCreatedSchema, withdrawalListSchema, withdrawalQuoteSchema } from '../../workers/ledger/ledger-view.schema.ts';
import type { listNodesQuerySchema } from '../../workers/nodes/node-input.schema.ts';
import type { nodeListSchema, nodeViewSchema, probePointsSchema } from '../../workers/nodes/node-view.schema.ts';
import type { depositCheckSchema, depositListSchema, depositRequestSchema } from '../../workers/settlement/deposit-view.schema.ts';
import type { newDepositSchema } from '../../workers/settlement/deposit-input.schema.ts';
import type {
  commissionBodySchema,
  pageQuerySchema,
  slashQuerySchema,
  stakeBodySchema,
} from '../../workers/staking/staking-input.schema.ts';
import type {
  accountRewardsSchema,
  commissionSchema,
  epochViewSchema,
  nodeEpochSharesSchema,
  nodeRewardsSchema,
  nodeStakingSchema,
  slashListSchema,
  stakeResponseSchema,
  unstakeResponseSchema,
} from '../../workers/staking/staking-view.schema.ts';

// A small typed client of the gridplane API. Request and response types are the zod schemas
// the routes validate with and answer by (type-only imports: nothing of the Worker is loaded at
// run time). `operations` names each operation's method and path; test/worker/openapi.test.ts
// checks it against GET /openapi.json (every operation present, same method and path).

type In<S extends z.ZodType> = z.input<S>;
type Out<S extends z.ZodType> = z.output<S>;
interface Op<Params, Query, Body, Response> {
  params: Params;
  query: Query;
  body: Body;
  response: Response;
}
type Id = { id: string };
type Ref = { ref: string };
type NodeParam = { nodeId: string };

export interface Operations {
  getIndex: Op<void, void, void, Out<typeof indexSchema>>;
  getHealth: Op<void, void, void, { ok: true }>;
  listNodes: Op<void, In<typeof listNodesQuerySchema>, void, Out<typeof nodeListSchema>>;
  getNode: Op<NodeParam, void, void, Out<typeof nodeViewSchema>>;
  listProbes: Op<void, void, void, Out<typeof probePointsSchema>>;
  getNetworkSummary: Op<void, void, void, Out<typeof networkSummarySchema>>;
  createQuote: Op<void, void, In<typeof quoteRequestSchema>, Out<typeof quoteResponseSchema>>;
  listJobs: Op<void, In<typeof listJobsQuerySchema>, void, Out<typeof jobListSchema>>;
  submitJob: Op<void, void, In<typeof jobRequestSchema>, Out<typeof jobViewSchema>>;
  getJob: Op<Id, void, void, Out<typeof jobViewSchema>>;
  cancelJob: Op<Id, void, void, Out<typeof jobViewSchema>>;
  getJobLogs: Op<Id, In<typeof logsQuerySchema>, void, Out<typeof jobLogsSchema>>;
  listTemplates: Op<void, void, void, Out<typeof templateListSchema>>;
  createEndpoint: Op<void, void, In<typeof endpointCreateSchema>, Out<typeof endpointViewSchema>>;
  listEndpoints: Op<void, In<typeof endpointListQuerySchema>, void, Out<typeof endpointListSchema>>;
  getEndpoint: Op<Id, void, void, Out<typeof endpointDetailSchema>>;
  updateEndpoint: Op<Id, void, In<typeof endpointPatchSchema>, Out<typeof endpointViewSchema>>;
  deleteEndpoint: Op<Id, void, void, Out<typeof endpointViewSchema>>;
  createEndpointKey: Op<Id, void, In<typeof endpointKeyCreateSchema>, Out<typeof endpointKeyCreatedSchema>>;
  listEndpointKeys: Op<Id, void, void, Out<typeof endpointKeyListSchema>>;
  revokeEndpointKey: Op<Id & { keyId: string }, void, void, Out<typeof endpointKeyViewSchema>>;
  siwsChallenge: Op<void, void, In<typeof challengeSchema>, Out<typeof siwsChallengeResponseSchema>>;
  siwsVerify: Op<void, void, In<typeof verifySchema>, Out<typeof siwsVerifyResponseSchema>>;
  getMe: Op<void, void, void, Out<typeof meResponseSchema>>;
  getBalance: Op<void, void, void, Out<typeof balanceResponseSchema>>;
  listEntries: Op<void, In<typeof entriesQuerySchema>, void, Out<typeof entriesResponseSchema>>;
  listApiKeys: Op<void, void, void, Out<typeof apiKeyListSchema>>;
  revokeApiKey: Op<{ prefix: string }, void, void, Out<typeof apiKeyRevokedSchema>>;
  createDeposit: Op<void, void, In<typeof newDepositSchema>, Out<typeof depositRequestSchema>>;
  listDeposits: Op<void, void, void, Out<typeof depositListSchema>>;
  checkDeposit: Op<{ reference: string }, void, void, Out<typeof depositCheckSchema>>;
  quoteWithdrawal: Op<void, In<typeof quoteQuerySchema>, void, Out<typeof withdrawalQuoteSchema>>;
  createWithdrawal: Op<void, void, In<typeof withdrawalSchema>, Out<typeof withdrawalCreatedSchema>>;
  listWithdrawals: Op<void, void, void, Out<typeof withdrawalListSchema>>;
  stake: Op<void, void, In<typeof stakeBodySchema>, Out<typeof stakeResponseSchema>>;
  delegate: Op<void, void, In<typeof stakeBodySchema>, Out<typeof stakeResponseSchema>>;
  unstake: Op<void, void, In<typeof stakeBodySchema>, Out<typeof unstakeResponseSchema>>;
  setCommission: Op<NodeParam, void, In<typeof commissionBodySchema>, Out<typeof commissionSchema>>;
  getNodeStaking: Op<NodeParam, void, void, Out<typeof nodeStakingSchema>>;
  getNodeRewards: Op<NodeParam, In<typeof pageQuerySchema>, void, Out<typeof nodeRewardsSchema>>;
  getNodeEpochShares: Op<NodeParam & { epoch: number | string }, void, void, Out<typeof nodeEpochSharesSchema>>;
  getMyRewards: Op<void, In<typeof pageQuerySchema>, void, Out<typeof accountRewardsSchema>>;
  listSlashes: Op<void, In<typeof slashQuerySchema>, void, Out<typeof slashListSchema>>;
  getEpoch: Op<{ epoch: number | string }, void, void, Out<typeof epochViewSchema>>;
  getParams: Op<void, void, void, Out<typeof paramListSchema>>;
  listProposals: Op<void, In<typeof proposalListQuerySchema>, void, Out<typeof proposalListSchema>>;
  createProposal: Op<void, void, In<typeof createProposalSchema>, Out<typeof proposalViewSchema>>;
  getProposal: Op<Ref, void, void, Out<typeof proposalViewSchema>>;
  voteOnProposal: Op<Ref, void, In<typeof voteSchema>, Out<typeof voteResponseSchema>>;
}

export type OperationId = keyof Operations;
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Method and path of every operation, as GET /openapi.json states them. */
export const operations = {
  getIndex: ['GET', '/'],
  getHealth: ['GET', '/health'],
  listNodes: ['GET', '/v1/nodes'],
  getNode: ['GET', '/v1/nodes/{nodeId}'],
  listProbes: ['GET', '/v1/probes'],
  getNetworkSummary: ['GET', '/v1/network/summary'],
  createQuote: ['POST', '/v1/quotes'],
  listJobs: ['GET', '/v1/jobs'],
  submitJob: ['POST', '/v1/jobs'],
  getJob: ['GET', '/v1/jobs/{id}'],
  cancelJob: ['POST', '/v1/jobs/{id}/cancel'],
  getJobLogs: ['GET', '/v1/jobs/{id}/logs'],
  listTemplates: ['GET', '/v1/templates'],
  createEndpoint: ['POST', '/v1/endpoints'],
  listEndpoints: ['GET', '/v1/endpoints'],
  getEndpoint: ['GET', '/v1/endpoints/{id}'],
  updateEndpoint: ['PATCH', '/v1/endpoints/{id}'],
  deleteEndpoint: ['DELETE', '/v1/endpoints/{id}'],
  createEndpointKey: ['POST', '/v1/endpoints/{id}/keys'],
  listEndpointKeys: ['GET', '/v1/endpoints/{id}/keys'],
  revokeEndpointKey: ['DELETE', '/v1/endpoints/{id}/keys/{keyId}'],
  siwsChallenge: ['POST', '/v1/auth/siws/challenge'],
  siwsVerify: ['POST', '/v1/auth/siws/verify'],
  getMe: ['GET', '/v1/accounts/me'],
  getBalance: ['GET', '/v1/accounts/me/balance'],
  listEntries: ['GET', '/v1/accounts/me/entries'],
  listApiKeys: ['GET', '/v1/accounts/me/api-keys'],
  revokeApiKey: ['DELETE', '/v1/accounts/me/api-keys/{prefix}'],
  createDeposit: ['POST', '/v1/accounts/me/deposits'],
  listDeposits: ['GET', '/v1/accounts/me/deposits'],
  checkDeposit: ['POST', '/v1/accounts/me/deposits/{reference}/check'],
  quoteWithdrawal: ['GET', '/v1/accounts/me/withdrawals/quote'],
  createWithdrawal: ['POST', '/v1/accounts/me/withdrawals'],
  listWithdrawals: ['GET', '/v1/accounts/me/withdrawals'],
  stake: ['POST', '/v1/staking/stake'],
  delegate: ['POST', '/v1/staking/delegate'],
  unstake: ['POST', '/v1/staking/unstake'],
  setCommission: ['PUT', '/v1/staking/nodes/{nodeId}/commission'],
  getNodeStaking: ['GET', '/v1/staking/nodes/{nodeId}'],
  getNodeRewards: ['GET', '/v1/staking/nodes/{nodeId}/rewards'],
  getNodeEpochShares: ['GET', '/v1/staking/nodes/{nodeId}/rewards/{epoch}'],
  getMyRewards: ['GET', '/v1/staking/rewards'],
  listSlashes: ['GET', '/v1/staking/slashes'],
  getEpoch: ['GET', '/v1/staking/epochs/{epoch}'],
  getParams: ['GET', '/v1/governance/params'],
  listProposals: ['GET', '/v1/governance/proposals'],
  createProposal: ['POST', '/v1/governance/proposals'],
  getProposal: ['GET', '/v1/governance/proposals/{ref}'],
  voteOnProposal: ['POST', '/v1/governance/proposals/{ref}/votes'],
} as const satisfies Record<OperationId, readonly [Method, string]>;

/** The protocol's error body, or what the client saw instead (`unreachable`, `bad_response`). */
export class GridplaneError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GridplaneError';
  }
}

// biome-ignore lint/suspicious/noConfusingVoidType: `void` marks an operation without params/query/body in the generated table; the check is on purpose
type Field<T, K extends string> = [T] extends [void] ? { [P in K]?: undefined } : { [P in K]: T };
export type RequestOf<K extends OperationId> = Field<Operations[K]['params'], 'params'> &
  Field<Operations[K]['query'], 'query'> &
  Field<Operations[K]['body'], 'body'> & { idempotencyKey?: string; signal?: AbortSignal };

export interface ClientOptions {
  /** The control plane, e.g. https://gridplane.example or http://127.0.0.1:8787. */
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
  userAgent?: string;
}

export class GridplaneClient {
  readonly baseUrl: string;
  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** The URL an operation is sent to, parameters filled in and the query appended. */
  url<K extends OperationId>(id: K, request: { params?: unknown; query?: unknown }): string {
    const [, template] = operations[id];
    const params = (request.params ?? {}) as Record<string, string | number>;
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`${id}: missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  async call<K extends OperationId>(
    id: K,
    // biome-ignore lint/suspicious/noConfusingVoidType: as for Field above
    ...args: [Operations[K]['params'] | Operations[K]['query'] | Operations[K]['body']] extends [void] ? [RequestOf<K>?] : [RequestOf<K>]
  ): Promise<Operations[K]['response']> {
    const request = (args[0] ?? {}) as { params?: unknown; query?: unknown; body?: unknown; idempotencyKey?: string; signal?: AbortSignal };
    const [method] = operations[id];
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
    const url = this.url(id, request);
    let res: Response;
    try {
      res = await (this.options.fetch ?? fetch)(url, {
        method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw new GridplaneError(0, 'unreachable', `Could not reach ${this.baseUrl}: ${(error as Error).message}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new GridplaneError(res.status, 'bad_response', `${method} ${url} answered ${res.status} with something that is not JSON.`);
    }
    if (!res.ok) {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      if (typeof error?.code === 'string' && typeof error.message === 'string')
        throw new GridplaneError(res.status, error.code, error.message);
      throw new GridplaneError(res.status, `http_${res.status}`, `${method} ${url} answered ${res.status}.`);
    }
    return body as Operations[K]['response'];
  }
}
