import { Routes } from 'discord-api-types/v10';
import type { GovernanceDeps } from '../../workers/governance/governance.ops.ts';
import { showProposal } from '../../workers/governance/governance.ops.ts';
import type { ProposalAnnouncement } from '../announce.ts';
import { outcomeReply, proposalReply } from '../core/views/proposal.ts';
import { renderDiscord } from './render.ts';
import { discordRest } from './rest.ts';

// Governance in the Discord channel (DISCORD_GOVERNANCE_CHANNEL_ID): a new proposal is posted
// with Yes / No / Abstain buttons, the message is edited as votes come in, and the outcome is
// edited in and announced beside it. `proposal_posts` remembers the message; its row is claimed
// before posting, so a proposal is posted once and each outcome announced once.

export async function announceOnDiscord(deps: GovernanceDeps, a: ProposalAnnouncement): Promise<void> {
  const { config, db } = deps;
  const channel = config.DISCORD_GOVERNANCE_CHANNEL_ID;
  if (!config.DISCORD_BOT_TOKEN || !channel) return;
  const rest = discordRest(config);
  const client = db.$client;
  const nowMs = Date.now();
  const view = await showProposal(deps, a.proposalId, nowMs);

  if (a.kind === 'opened') {
    const claimed = await client
      .prepare(
        `INSERT INTO proposal_posts (proposal_id, platform, channel_id, message_id, announced_status, updated_at)
         VALUES (?1, 'discord', ?2, NULL, ?3, ?4) ON CONFLICT DO NOTHING`,
      )
      .bind(view.id, channel, view.status, nowMs)
      .run();
    if (claimed.meta.changes !== 1) return;
    const message = (await rest.post(Routes.channelMessages(channel), { body: renderDiscord(proposalReply(view)) })) as { id: string };
    await client.prepare(`UPDATE proposal_posts SET message_id = ?2, updated_at = ?3 WHERE proposal_id = ?1 AND platform = 'discord'`).bind(view.id, message.id, Date.now()).run();
    return;
  }

  const post = await client
    .prepare(`SELECT channel_id AS channelId, message_id AS messageId, announced_status AS announced FROM proposal_posts WHERE proposal_id = ?1 AND platform = 'discord'`)
    .bind(view.id)
    .first<{ channelId: string; messageId: string | null; announced: string }>();
  if (!post?.messageId) return;
  const edit = () => rest.patch(Routes.channelMessage(post.channelId, post.messageId!), { body: renderDiscord(proposalReply(view)) });

  if (a.kind === 'tally') {
    await edit();
    return;
  }
  if (view.status === post.announced) return;
  const claimed = await client
    .prepare(`UPDATE proposal_posts SET announced_status = ?2, updated_at = ?3 WHERE proposal_id = ?1 AND platform = 'discord' AND announced_status <> ?2`)
    .bind(view.id, view.status, nowMs)
    .run();
  if (claimed.meta.changes !== 1) return;
  await edit();
  await rest.post(Routes.channelMessages(post.channelId), {
    body: { ...renderDiscord(outcomeReply(view)), message_reference: { message_id: post.messageId, fail_if_not_exists: false } },
  });
}
