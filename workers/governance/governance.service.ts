import type { VoteChoice } from '../../db/schema/governance.ts';
import type { Db } from '../app-env.ts';
import { AppError, notFound } from '../errors.ts';
import { randomId } from '../lib/ids.ts';
import type { GovernanceDeps } from './governance-deps.ts';
import type { Params } from './param-defs.ts';
import { getParams } from './params.repo.ts';
import { toNewProposal } from './proposal-input.ts';
import { rulesFor } from './proposal-rules.ts';
import { proposalView, type ProposalView } from './proposal-view.ts';
import {
  findProposal,
  insertProposal,
  listProposals,
  proposalByKey,
  recordVote,
  searchOpenProposals,
  tallyProposal,
  type CastVote,
  type ListOptions,
  type NewProposal,
  type ProposalRow,
} from './proposals.repo.ts';

// Governance operations as the HTTP routes and the chat bots call them: one function per thing a
// person does, so both entry points validate, act and announce identically.

export type { GovernanceDeps } from './governance-deps.ts';

/**
 * `idempotencyKey`, scoped by its caller (`chat:<platform>:<event id>` from the bots): a repeat
 * of the same request returns the proposal the first run opened, with its tally, and announces
 * nothing again.
 */
export async function createProposal(
  deps: GovernanceDeps,
  proposer: string,
  raw: unknown,
  nowMs = Date.now(),
  idempotencyKey: string | null = null,
): Promise<ProposalView> {
  const input = await toNewProposal(deps.db, deps.config, proposer, raw);
  const params = await getParams(deps.db, deps.config, nowMs);
  const { row, replayed } = await openProposal(deps.db, input, params, nowMs, idempotencyKey);
  if (replayed) return proposalView(row, await tallyProposal(deps.db, row.id), deps.config.TOKEN_DECIMALS, nowMs);
  deps.defer(deps.announce(deps, { kind: 'opened', proposalId: row.id }));
  return proposalView(row, { yes: 0, no: 0, abstain: 0, voters: 0 }, deps.config.TOKEN_DECIMALS, nowMs);
}

export async function showProposal(deps: Pick<GovernanceDeps, 'db' | 'config'>, ref: string, nowMs = Date.now()): Promise<ProposalView> {
  const row = await requireProposal(deps.db, ref);
  return proposalView(row, await tallyProposal(deps.db, row.id), deps.config.TOKEN_DECIMALS, nowMs);
}

export async function listProposalViews(deps: Pick<GovernanceDeps, 'db' | 'config'>, options: ListOptions, nowMs = Date.now()) {
  const rows = await listProposals(deps.db, { ...options, limit: options.limit + 1 });
  const page = rows.slice(0, options.limit);
  const views = await Promise.all(
    page.map(async (r) => proposalView(r, await tallyProposal(deps.db, r.id), deps.config.TOKEN_DECIMALS, nowMs)),
  );
  return { proposals: views, nextBefore: rows.length > options.limit ? page.at(-1)!.number : null };
}

/** Open proposals whose title or number starts as typed (the chat's proposal suggestions). */
export function findOpenProposals(deps: Pick<GovernanceDeps, 'db'>, typed: string, nowMs: number) {
  return searchOpenProposals(deps.db, typed, nowMs);
}

export interface VoteResult {
  proposal: ProposalView;
  choice: VoteChoice;
  /** Base units of snapshot power the vote carries. */
  power: number;
  replaced: boolean;
}

export async function voteOnProposal(
  deps: GovernanceDeps,
  vote: { proposalRef: string; accountId: string; choice: VoteChoice; via: 'api' | 'discord' | 'telegram' },
  nowMs = Date.now(),
): Promise<VoteResult> {
  const row = await requireProposal(deps.db, vote.proposalRef);
  const cast = await castVote(deps.db, { proposalId: row.id, accountId: vote.accountId, choice: vote.choice, via: vote.via }, nowMs);
  deps.defer(deps.announce(deps, { kind: 'tally', proposalId: row.id }));
  const proposal = proposalView(row, await tallyProposal(deps.db, row.id), deps.config.TOKEN_DECIMALS, nowMs);
  return { proposal, choice: vote.choice, power: cast.power, replaced: cast.replaced };
}

/**
 * Opens a proposal with its voting-power snapshot (proposals.repo.ts insertProposal, one batch).
 * The rules (quorum, threshold, timelock, voting period) are copied from the parameters as
 * they stand now, so a later parameter change never moves a running vote; a change to one of
 * governance's own rules gets the supermajority and the longer timelock (proposal-rules.ts).
 */
export async function openProposal(
  db: Db,
  input: NewProposal,
  params: Params,
  nowMs: number,
  idempotencyKey: string | null = null,
): Promise<{ row: ProposalRow; replayed: boolean }> {
  if (idempotencyKey !== null) {
    const earlier = await replayOf(db, idempotencyKey, input.proposerAccountId);
    if (earlier) return { row: earlier, replayed: true };
  }
  const id = randomId('prop');
  if (!(await insertProposal(db, id, input, rulesFor(input.param, params), params, nowMs, idempotencyKey))) {
    // A concurrent run of the same request opened it first (the key's unique index refused ours).
    const earlier = idempotencyKey === null ? undefined : await replayOf(db, idempotencyKey, input.proposerAccountId);
    if (earlier) return { row: earlier, replayed: true };
    throw new AppError(
      403,
      'insufficient_stake',
      `Opening a proposal needs at least the minimum bonded stake (proposal_min_stake); stake more and try again.`,
    );
  }
  return { row: (await findProposal(db, id))!, replayed: false };
}

/** The proposal an earlier run of the same request opened; a key used by another account is refused. */
async function replayOf(db: Db, idempotencyKey: string, proposer: string): Promise<ProposalRow | undefined> {
  const row = await proposalByKey(db, idempotencyKey);
  if (row && row.proposerAccountId !== proposer) {
    throw new AppError(409, 'idempotency_conflict', 'This idempotency key was used for another request.');
  }
  return row;
}

export async function requireProposal(db: Db, ref: string): Promise<ProposalRow> {
  const row = await findProposal(db, ref);
  if (!row) throw notFound('Proposal');
  return row;
}

/** Records or replaces a vote; says why when the proposal refused it (recordVote changed nothing). */
export async function castVote(db: Db, vote: CastVote, nowMs: number): Promise<{ power: number; replaced: boolean }> {
  const cast = await recordVote(db, vote, nowMs);
  if (cast) return cast;
  const proposal = await findProposal(db, vote.proposalId);
  if (!proposal) throw notFound('Proposal');
  if (proposal.status !== 'open' || proposal.votingEndsAt <= nowMs) {
    throw new AppError(409, 'voting_closed', `Voting on proposal #${proposal.number} has closed.`);
  }
  throw new AppError(
    403,
    'no_voting_power',
    `This account had no bonded stake when proposal #${proposal.number} opened, so it has no vote on it.`,
  );
}
