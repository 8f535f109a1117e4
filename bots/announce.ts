import type { AnnounceProposal, ProposalAnnouncement } from '../workers/governance/governance-deps.ts';
import { announceOnDiscord } from './discord/announce.ts';
import { announceOnTelegram } from './telegram/announce.ts';

// Where governance news goes. Each platform's announcer does nothing when that platform is not
// configured; one platform failing does not keep the news from the other. This is governance's
// announce port (workers/governance/governance-deps.ts), wired in by the entry points.

export type { ProposalAnnouncement };

export const announceProposal: AnnounceProposal = async (deps, announcement) => {
  const results = await Promise.allSettled([announceOnDiscord(deps, announcement), announceOnTelegram(deps, announcement)]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0)
    throw failed.length === 1
      ? failed[0]!.reason
      : new AggregateError(
          failed.map((f) => f.reason),
          'governance announcements failed',
        );
};
