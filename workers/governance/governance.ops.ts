import type { VoteChoice } from '../../db/schema/governance.ts';
import type { GovernanceDeps } from './governance-deps.ts';
import { getParams } from './params.repo.ts';
import { toNewProposal } from './proposal-input.ts';
import { proposalView, type ProposalView } from './proposal-view.ts';
import { castVote, listProposals, openProposal, requireProposal, searchOpenProposals, tallyProposal, type ListOptions } from './proposals.repo.ts';

// Governance operations as the HTTP routes and the chat bots call them: one function per thing a
// person does, so both entry points validate, act and announce identically.

export type { GovernanceDeps } from './governance-deps.ts';

/**
 * `idempotencyKey`, scoped by its caller (`chat:<platform>:<event id>` from the bots): a repeat
 * of the same request returns the proposal the first run opened, with its tally, and announces
 * nothing again.
 */
export async function createProposal(deps: GovernanceDeps, proposer: string, raw: unknown, nowMs = Date.now(), idempotencyKey: string | null = null): Promise<ProposalView> {
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
  const views = await Promise.all(page.map(async (r) => proposalView(r, await tallyProposal(deps.db, r.id), deps.config.TOKEN_DECIMALS, nowMs)));
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
