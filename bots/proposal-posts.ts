import type { GovernanceDeps, ProposalAnnouncement } from '../workers/governance/governance-deps.ts';
import { showProposal } from '../workers/governance/governance.ops.ts';

// The platform-neutral half of a governance announcement. `proposal_posts` remembers, per
// platform, where a proposal was posted and which outcome was announced; each row is claimed
// before anything is sent, so a proposal is posted once and each outcome announced once however
// many crons or votes race. A platform supplies only how to post, edit and reply.

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
  const client = deps.db.$client;
  const nowMs = Date.now();
  const view = await showProposal(deps, a.proposalId, nowMs);

  if (a.kind === 'opened') {
    const claimed = await client
      .prepare(
        `INSERT INTO proposal_posts (proposal_id, platform, channel_id, message_id, announced_status, updated_at)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5) ON CONFLICT DO NOTHING`,
      )
      .bind(view.id, channel.platform, channel.channelId, view.status, nowMs)
      .run();
    if (claimed.meta.changes !== 1) return;
    const messageId = await channel.post(view);
    await client
      .prepare(`UPDATE proposal_posts SET message_id = ?3, updated_at = ?4 WHERE proposal_id = ?1 AND platform = ?2`)
      .bind(view.id, channel.platform, messageId, Date.now())
      .run();
    return;
  }

  const post = await client
    .prepare(
      `SELECT channel_id AS channelId, message_id AS messageId, announced_status AS announced
       FROM proposal_posts WHERE proposal_id = ?1 AND platform = ?2`,
    )
    .bind(view.id, channel.platform)
    .first<{ channelId: string; messageId: string | null; announced: string }>();
  if (!post?.messageId) return;
  const message = { channelId: post.channelId, messageId: post.messageId };

  if (a.kind === 'tally') {
    await channel.edit(message, view);
    return;
  }
  if (view.status === post.announced) return;
  const claimed = await client
    .prepare(
      `UPDATE proposal_posts SET announced_status = ?3, updated_at = ?4
       WHERE proposal_id = ?1 AND platform = ?2 AND announced_status <> ?3`,
    )
    .bind(view.id, channel.platform, view.status, nowMs)
    .run();
  if (claimed.meta.changes !== 1) return;
  await channel.edit(message, view);
  await channel.replyOutcome(message, view);
}
