import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import worker from '../../../workers/index.ts';
import { issueApiKey } from '../../../workers/accounts/api-keys.ts';
import { getConfig } from '../../../workers/config.ts';
import { SYSTEM_ACCOUNTS } from '../../../workers/ledger/ledger-accounts.ts';
import { postTransaction } from '../../../workers/ledger/ledger.repo.ts';
import { COMMUNITY_TREASURY } from '../../../workers/governance/community-treasury.ts';
import { addStake } from '../../../workers/staking/staking.service.ts';
import { registeredAgent } from './agent.ts';
import { newFundedAccount, testDb } from './ledger.ts';

// Stakers and proposals for governance tests, through the real staking and ledger code.

export const TOKEN = 1_000_000; // base units per token at the test's 6 decimals
export const DAY_MS = 86_400_000;

let node: Promise<string> | undefined;
/** One node every test staker delegates to (owned by the default test owner). */
export const stakingNode = () => (node ??= registeredAgent().then((a) => a.nodeId));

export interface Staker {
  accountId: string;
  apiKey: string;
}

/** A funded account with `tokens` bonded on the staking node, and an API key. */
export async function staker(tokens: number, spareTokens = 10): Promise<Staker> {
  const db = testDb();
  const accountId = await newFundedAccount((tokens + spareTokens) * TOKEN, db);
  if (tokens > 0) await bond(accountId, tokens);
  return { accountId, apiKey: (await issueApiKey(db, accountId, 'dev', { maxLive: getConfig(env).API_KEYS_PER_ACCOUNT })).apiKey };
}

export async function bond(accountId: string, tokens: number): Promise<void> {
  const db = testDb();
  const wallet = (await env.DB.prepare('SELECT wallet FROM accounts WHERE id = ?1').bind(accountId).first<{ wallet: string }>())!.wallet;
  await addStake(db, getConfig(env), {
    accountId,
    wallet,
    nodeId: await stakingNode(),
    amount: tokens * TOKEN,
    idempotencyKey: `test-stake:${crypto.randomUUID()}`,
    as: 'delegator',
  });
}

export async function fundCommunityTreasury(tokens: number): Promise<void> {
  await postTransaction(testDb(), {
    kind: 'mint',
    idempotencyKey: `test-community:${crypto.randomUUID()}`,
    entries: [
      { account: SYSTEM_ACCOUNTS.emission, amount: -tokens * TOKEN },
      { account: COMMUNITY_TREASURY, amount: tokens * TOKEN },
    ],
  });
}

export function apiAs(s: Staker | null, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (s) headers.authorization = `Bearer ${s.apiKey}`;
  return exports.default.fetch(
    new Request(`http://gridplane.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
}

export interface ProposalBody {
  id: string;
  number: number;
  status: string;
  votingEndsAt: string;
  executableAt: string | null;
  snapshot: { totalPower: string };
  tally: { yes: string; no: string; abstain: string; voters: number; quorumReached: boolean };
  outcomeReason: string | null;
  executionTransactionId: string | null;
  [k: string]: unknown;
}

export async function propose(s: Staker, body: Record<string, unknown>): Promise<ProposalBody> {
  const res = await apiAs(s, 'POST', '/v1/governance/proposals', { title: 'A test proposal', ...body });
  if (res.status !== 201) throw new Error(`proposal failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as ProposalBody;
}

export async function vote(s: Staker, proposal: ProposalBody, choice: 'yes' | 'no' | 'abstain'): Promise<Response> {
  return apiAs(s, 'POST', `/v1/governance/proposals/${proposal.number}/votes`, { choice });
}

export async function show(proposal: ProposalBody): Promise<ProposalBody> {
  return (await (await apiAs(null, 'GET', `/v1/governance/proposals/${proposal.id}`)).json()) as ProposalBody;
}

/** Runs the Worker's real scheduled handler at `scheduledTime`, and waits for its deferred work. */
export async function cronAt(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: '* * * * *', scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}
