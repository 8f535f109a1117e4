import type { Db } from './app-env.ts';
import type { AnnounceProposal } from './governance/governance-deps.ts';

// What the domain needs from the chat bots, as interfaces: nothing under workers/ imports bots/
// (test/unit/structure/import-graph.test.ts). The entry points wire the bots' implementations
// (bots/ports.ts): workers/app.ts for requests, workers/index.ts for the cron.

export interface Ports {
  /** Posts a proposal, refreshes its tally, announces its outcome in the configured chats. */
  announceProposal: AnnounceProposal;
  /** Drops chat state past its use (Telegram's update claims and expired rent flows). */
  pruneChatState(db: Db, nowMs: number): Promise<void>;
}
