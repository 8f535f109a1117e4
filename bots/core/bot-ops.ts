import { cancelLink, confirmLink, createLinkToken, linkedAccountOf, pendingLink } from '../../workers/accounts/links.ts';
import type { ChatPrefs } from '../../workers/alerts/alert-event.ts';
import { chatAlertSettings, chatPrefs, followNodes, setChatPrefs, unfollowNodes } from '../../workers/alerts/subscriptions.service.ts';
import type { Db } from '../../workers/app-env.ts';
import type { Config } from '../../workers/config.ts';
import type { Env } from '../../workers/env.ts';
import { governanceStep } from '../../workers/cron/governance.ts';
import type { GovernanceDeps } from '../../workers/governance/governance-deps.ts';
import {
  createProposal,
  findOpenProposals,
  listProposalViews,
  showProposal,
  voteOnProposal,
} from '../../workers/governance/governance.service.ts';
import { accountJobs, jobLogTail, jobOfAccount, jobOfAccountByKey, type JobRow } from '../../workers/jobs/account-jobs.service.ts';
import { cancelJob, runQuote, submitJob, type SubmitInput } from '../../workers/jobs/jobs.service.ts';
import { balanceOf } from '../../workers/ledger/ledger.service.ts';
import {
  availableGpuModels,
  listNodesWithGpus,
  nodeNameChoices,
  nodeNames,
  nodesByRef,
  nodeWithGpus,
  ownedNodes,
  rentableNow,
} from '../../workers/nodes/nodes.service.ts';
import { createDepositRequest } from '../../workers/settlement/deposit-requests.ts';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { extendRental } from '../../workers/endpoints/extend-rental.ts';
import { deleteEndpoint, endpointOfAccount, patchEndpoint } from '../../workers/endpoints/endpoints.service.ts';
import {
  accountEndpointSummaries,
  endpointByKey,
  endpointSummary,
  replicasServedBy,
  type EndpointRow,
} from '../../workers/endpoints/endpoint-summaries.ts';
import { rentTemplate, type TemplateRentalInput } from '../../workers/templates/template-rental.ts';
import { missingSettlementNames, requireSettlement } from '../../workers/settlement/settlement-env.ts';
import { announceProposal } from '../announce.ts';
import {
  accountRewardsPerEpoch,
  accountStakes,
  bondOnNode,
  unbondFromNode,
  type BondRequest,
} from '../../workers/staking/account-staking.service.ts';

// The bots' one door into the domain. Commands see only these operations (BotContext.ops), never
// D1 or the env: each is the function the HTTP route for the same thing calls (the service and
// ops files of workers/), bound here to this request's D1, config and env. A command that needs
// something new adds it here, from the domain's service, and the route calls the same function.

/** What the Worker gives the bots for one request or update. */
export interface DomainDeps {
  db: Db;
  config: Config;
  env: Env;
  defer(promise: Promise<unknown>): void;
}

type LinkPlatform = Parameters<typeof linkedAccountOf>[1];
type QuoteQuery = Parameters<typeof runQuote>[1];
type ListFilter = Parameters<typeof listNodesWithGpus>[1];
type OwnedFilter = Parameters<typeof ownedNodes>[2];
type ProposalList = Parameters<typeof listProposalViews>[1];
type Vote = Parameters<typeof voteOnProposal>[1];

export function botOps(d: DomainDeps) {
  const jobs = { db: d.db, env: d.env, config: d.config };
  // Governance announces what chat changes (a proposal opened, a vote) through the chats' announcer.
  const governance: GovernanceDeps = { ...jobs, defer: d.defer, announce: announceProposal };
  return {
    // accounts and chat links (workers/accounts/links.ts, GET /v1/accounts/me/balance)
    linkedAccount: (platform: LinkPlatform, userId: string) => linkedAccountOf(d.db, platform, userId),
    createLinkToken: (platform: LinkPlatform, userId: string, options: { nowMs: number; userName: string }) =>
      createLinkToken(d.db, platform, userId, options),
    pendingLink: (platform: LinkPlatform, userId: string, ref: string, nowMs: number) => pendingLink(d.db, platform, userId, ref, nowMs),
    confirmLink: (platform: LinkPlatform, userId: string, ref: string, nowMs: number) => confirmLink(d.db, platform, userId, ref, nowMs),
    cancelLink: (platform: LinkPlatform, userId: string, ref: string, nowMs: number) => cancelLink(d.db, platform, userId, ref, nowMs),
    balance: (accountId: string) => balanceOf(d.db, accountId),

    // deposits (POST /v1/accounts/me/deposits)
    depositsAvailable: () => missingSettlementNames(d.env).length === 0,
    async requestDeposit(accountId: string, expected: number | null, nowMs: number) {
      const s = await requireSettlement(d.env);
      return { ...(await createDepositRequest(d.db, s, accountId, expected, nowMs)), decimals: s.config.decimals };
    },

    // jobs (POST /v1/quotes, /v1/jobs…)
    quote: (query: QuoteQuery, nowMs: number) => runQuote(jobs, query, nowMs),
    submitJob: (input: SubmitInput, nowMs: number) => submitJob(jobs, input, nowMs),
    cancelJob: (accountId: string, jobId: string, nowMs: number) => cancelJob(jobs, accountId, jobId, nowMs),
    job: (accountId: string, jobId: string) => jobOfAccount(d.db, accountId, jobId),
    jobByKey: (accountId: string, idempotencyKey: string) => jobOfAccountByKey(d.db, accountId, idempotencyKey),
    jobs: (accountId: string, limit: number) => accountJobs(d.db, accountId, { limit }),
    jobLogTail: (job: JobRow, lines: number) => jobLogTail(d.db, job, lines),

    // nodes (GET /v1/nodes…)
    node: (nodeId: string) => nodeWithGpus(d.db, nodeId),
    nodes: (filter: ListFilter) => listNodesWithGpus(d.db, filter),
    ownedNodes: (accountId: string, filter: OwnedFilter) => ownedNodes(d.db, accountId, filter),
    availableGpuModels: () => availableGpuModels(d.db),
    nodesByRef: (ref: string, limit: number) => nodesByRef(d.db, ref, limit),
    nodeChoices: (prefix: string, limit: number) => nodeNameChoices(d.db, prefix, limit),
    nodeNames: (ids: string[]) => nodeNames(d.db, ids),
    /** What /rent's menus offer: models some node can take a job on now (see nodes.service rentableNow). */
    rentableNow: () => rentableNow(d.db),

    // staking (POST /v1/staking/stake|delegate|unstake)
    bond: (req: BondRequest, nowMs: number) => bondOnNode(d.db, d.config, req, nowMs),
    unbond: (req: BondRequest, nowMs: number) => unbondFromNode(d.db, d.config, d.env, req, nowMs),
    stakes: (accountId: string, limit: number) => accountStakes(d.db, accountId, limit),
    rewardsPerEpoch: (accountId: string, limit: number) => accountRewardsPerEpoch(d.db, accountId, limit),

    // governance (/v1/governance/proposals…; the cron's tick)
    createProposal: (proposer: string, raw: unknown, nowMs: number, idempotencyKey: string) =>
      createProposal(governance, proposer, raw, nowMs, idempotencyKey),
    listProposals: (options: ProposalList, nowMs: number) => listProposalViews(governance, options, nowMs),
    showProposal: (ref: string, nowMs: number) => showProposal(governance, ref, nowMs),
    findOpenProposals: (typed: string, nowMs: number) => findOpenProposals(governance, typed, nowMs),
    vote: (vote: Vote, nowMs: number) => voteOnProposal(governance, vote, nowMs),
    governanceTick: (nowMs: number) => governanceStep(governance, nowMs),

    // endpoints (GET/PATCH/DELETE /v1/endpoints…; the replicas a node serves) and template rentals
    endpoints: (accountId: string, nowMs: number) => accountEndpointSummaries(endpointsContext(d.env, d.db), accountId, nowMs),
    endpoint: (accountId: string, endpointId: string) => endpointOfAccount({ db: d.db }, accountId, endpointId),
    endpointSummary: (endpoint: EndpointRow, nowMs: number) => endpointSummary(endpointsContext(d.env, d.db), endpoint, nowMs),
    /** The replicas the endpoint keeps at least (PATCH replicas.min); the scaler adds more up to max on load. */
    scaleEndpoint: (endpoint: EndpointRow, min: number, nowMs: number) =>
      patchEndpoint(endpointsContext(d.env, d.db), endpoint, { replicas: { min } }, null, nowMs),
    stopEndpoint: (endpoint: EndpointRow, nowMs: number) => deleteEndpoint(endpointsContext(d.env, d.db), endpoint, nowMs),
    nodeReplicas: (nodeId: string) => replicasServedBy(d.db, nodeId),
    endpointByKey: (idempotencyKey: string) => endpointByKey(d.db, idempotencyKey),
    rentTemplate: (input: TemplateRentalInput, origin: string, nowMs: number) =>
      rentTemplate(endpointsContext(d.env, d.db), input, origin, nowMs),
    /** A later end for a template rental (the "ends soon" alert's Extend buttons). */
    extendRental: (accountId: string, endpointId: string, fromStopAt: number, addS: number, nowMs: number) =>
      extendRental(endpointsContext(d.env, d.db), accountId, endpointId, fromStopAt, addS, nowMs),

    // operator alerts (Telegram's /alerts)
    alerts: {
      settings: (chatId: string) => chatAlertSettings(d.db, chatId),
      prefs: (chatId: string) => chatPrefs(d.db, chatId),
      follow: (chatId: string, accountId: string, nodeRef: string | null, nowMs: number) =>
        followNodes(d.db, chatId, accountId, nodeRef, nowMs),
      unfollow: (chatId: string, accountId: string, nodeRef: string | null) => unfollowNodes(d.db, chatId, accountId, nodeRef),
      setPrefs: (chatId: string, prefs: ChatPrefs, nowMs: number) => setChatPrefs(d.db, d.env, chatId, prefs, nowMs),
    },
  };
}

export type BotOps = ReturnType<typeof botOps>;
