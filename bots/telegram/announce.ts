import { Api, GrammyError } from 'grammy';
import type { GovernanceDeps } from '../../workers/governance/governance.ops.ts';
import { showProposal } from '../../workers/governance/governance.ops.ts';
import type { ProposalAnnouncement } from '../announce.ts';
import { outcomeReply, proposalReply } from '../core/views/proposal.ts';
import { renderReply } from './render.ts';

// Governance in the Telegram chat TELEGRAM_GOVERNANCE_CHAT_ID, as on Discord: a new proposal is
// posted with Yes / No / Abstain buttons (callback data `vote:<number>:<choice>`, the shared vote
// action), each vote edits the message's tally, and the close and the execution edit it once more
// (buttons gone) and are announced as replies to it. The `proposal_posts` row (platform
// 'telegram') is claimed before posting, so a proposal is posted once and each outcome once.

export async function announceOnTelegram(deps: GovernanceDeps, a: ProposalAnnouncement): Promise<void> {
  const { config, db } = deps;
  const chat = config.TELEGRAM_GOVERNANCE_CHAT_ID;
  if (!config.TELEGRAM_BOT_TOKEN || !chat) return;
  const api = new Api(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT.replace(/\/+$/, ''), timeoutSeconds: 15 });
  const client = db.$client;
  const nowMs = Date.now();
  const view = await showProposal(deps, a.proposalId, nowMs);

  if (a.kind === 'opened') {
    const claimed = await client
      .prepare(
        `INSERT INTO proposal_posts (proposal_id, platform, channel_id, message_id, announced_status, updated_at)
         VALUES (?1, 'telegram', ?2, NULL, ?3, ?4) ON CONFLICT DO NOTHING`,
      )
      .bind(view.id, chat, view.status, nowMs)
      .run();
    if (claimed.meta.changes !== 1) return;
    const m = renderReply(proposalReply(view));
    const sent = await api.sendMessage(chat, m.text, { parse_mode: m.parse_mode, reply_markup: m.reply_markup, link_preview_options: m.link_preview_options });
    await client
      .prepare(`UPDATE proposal_posts SET message_id = ?2, updated_at = ?3 WHERE proposal_id = ?1 AND platform = 'telegram'`)
      .bind(view.id, String(sent.message_id), Date.now())
      .run();
    return;
  }

  const post = await client
    .prepare(`SELECT channel_id AS chatId, message_id AS messageId, announced_status AS announced FROM proposal_posts WHERE proposal_id = ?1 AND platform = 'telegram'`)
    .bind(view.id)
    .first<{ chatId: string; messageId: string | null; announced: string }>();
  if (!post?.messageId) return;
  const messageId = Number(post.messageId);
  const edit = async () => {
    const m = renderReply(proposalReply(view));
    try {
      // An empty keyboard removes the buttons once voting is over (omitting it would keep them).
      await api.editMessageText(post.chatId, messageId, m.text, { parse_mode: m.parse_mode, reply_markup: m.reply_markup ?? { inline_keyboard: [] }, link_preview_options: m.link_preview_options });
    } catch (error) {
      // Two votes refreshing to the same tally: Telegram refuses an edit that changes nothing.
      if (!(error instanceof GrammyError && /message is not modified/i.test(error.description))) throw error;
    }
  };

  if (a.kind === 'tally') {
    await edit();
    return;
  }
  if (view.status === post.announced) return;
  const claimed = await client
    .prepare(`UPDATE proposal_posts SET announced_status = ?2, updated_at = ?3 WHERE proposal_id = ?1 AND platform = 'telegram' AND announced_status <> ?2`)
    .bind(view.id, view.status, nowMs)
    .run();
  if (claimed.meta.changes !== 1) return;
  await edit();
  const outcome = renderReply(outcomeReply(view));
  await api.sendMessage(post.chatId, outcome.text, {
    parse_mode: outcome.parse_mode,
    link_preview_options: outcome.link_preview_options,
    reply_parameters: { message_id: messageId, allow_sending_without_reply: true },
  });
}
