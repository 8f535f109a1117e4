import type { GovernanceDeps, ProposalAnnouncement } from '../workers/governance/governance-deps.ts';
import { showProposal } from '../workers/governance/governance.service.ts';
import { claimOutcome, claimProposalPost, proposalPost, recordPostedMessage } from './proposal-posts.repo.ts';

// The platform-neutral half of a governance announcement. `proposal_posts` remembers, per
// platform, where a proposal was posted and which outcome was announced; each row is claimed
// before anything is sent, so a proposal is posted once and each outcome announced once however
// many crons or votes race (the rows: proposal-posts.repo.ts). A platform supplies only how to
// post, edit and reply.

export type ProposalView = Awaited<ReturnType<typeof showProposal>>;

export interface PostedMessage {
  channelId: string;
  messageId: string;
}

export interface ProposalChannel {
  platform: 'discord' | 'telegram';
  channelId: string;
  /** Posts the proposal with its vote buttons; returns the message id. */
  post(view: ProposalView): Promise<string>;
  /** Re-renders the posted proposal (tally, or buttons gone once voting is over). */
  edit(message: PostedMessage, view: ProposalView): Promise<void>;
  /** Posts the outcome as a reply to the proposal's message. */
  replyOutcome(message: PostedMessage, view: ProposalView): Promise<void>;
}

export async function announceInChannel(deps: GovernanceDeps, a: ProposalAnnouncement, channel: ProposalChannel): Promise<void> {
  const db = deps.db;
  const nowMs = Date.now();
  const view = await showProposal(deps, a.proposalId, nowMs);

  if (a.kind === 'opened') {
    if (!(await claimProposalPost(db, view.id, channel.platform, channel.channelId, view.status, nowMs))) return;
    const messageId = await channel.post(view);
    await recordPostedMessage(db, view.id, channel.platform, messageId, Date.now());
    return;
  }

  const post = await proposalPost(db, view.id, channel.platform);
  if (!post?.messageId) return;
  const message = { channelId: post.channelId, messageId: post.messageId };

  if (a.kind === 'tally') {
    await channel.edit(message, view);
    return;
  }
  if (view.status === post.announced) return;
  if (!(await claimOutcome(db, view.id, channel.platform, view.status, nowMs))) return;
  await channel.edit(message, view);
  await channel.replyOutcome(message, view);
}
