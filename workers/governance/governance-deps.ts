import type { Db } from '../app-env.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';

// What governance's operations are given, the announcer included. Governance says THAT a proposal
// opened, got a vote or ended; the chats (bots/announce.ts) say it to people. The entry points
// wire that implementation in (workers/ports.ts), so nothing here imports the bots.

export type ProposalAnnouncement =
  /** A new proposal: post it with its vote buttons. */
  | { kind: 'opened'; proposalId: string }
  /** A vote changed the tally: refresh the posted message. */
  | { kind: 'tally'; proposalId: string }
  /** Closed, executed or failed: refresh the message and post the outcome beside it. */
  | { kind: 'outcome'; proposalId: string };

/** The port: tells every configured chat; rejects if one of them failed. */
export type AnnounceProposal = (deps: GovernanceDeps, announcement: ProposalAnnouncement) => Promise<void>;

export interface GovernanceDeps {
  db: Db;
  config: Config;
  env: Env;
  /** Work that may finish after the reply (ExecutionContext.waitUntil). */
  defer(promise: Promise<unknown>): void;
  announce: AnnounceProposal;
}
