import { Api, GrammyError } from 'grammy';
import type { GovernanceDeps, ProposalAnnouncement } from '../../workers/governance/governance-deps.ts';
import { announceInChannel } from '../proposal-posts.ts';
import { outcomeReply, proposalReply } from '../core/views/proposal.ts';
import { renderReply } from './render.ts';

// Governance in the Telegram chat TELEGRAM_GOVERNANCE_CHAT_ID, as on Discord: a new proposal is
// posted with Yes / No / Abstain buttons (callback data `vote:<number>:<choice>`, the shared vote
// action), each vote edits the message's tally, and the close and the execution edit it once more
// (buttons gone) and are announced as replies to it; bots/proposal-posts.ts makes each happen once.

export async function announceOnTelegram(deps: GovernanceDeps, a: ProposalAnnouncement): Promise<void> {
  const { config } = deps;
  const chat = config.TELEGRAM_GOVERNANCE_CHAT_ID;
  if (!config.TELEGRAM_BOT_TOKEN || !chat) return;
  const api = new Api(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT.replace(/\/+$/, ''), timeoutSeconds: 15 });
  await announceInChannel(deps, a, {
    platform: 'telegram',
    channelId: chat,
    post: async (view) => {
      const m = renderReply(proposalReply(view));
      const sent = await api.sendMessage(chat, m.text, {
        parse_mode: m.parse_mode,
        reply_markup: m.reply_markup,
        link_preview_options: m.link_preview_options,
      });
      return String(sent.message_id);
    },
    edit: async (posted, view) => {
      const m = renderReply(proposalReply(view));
      try {
        // An empty keyboard removes the buttons once voting is over (omitting it would keep them).
        await api.editMessageText(posted.channelId, Number(posted.messageId), m.text, {
          parse_mode: m.parse_mode,
          reply_markup: m.reply_markup ?? { inline_keyboard: [] },
          link_preview_options: m.link_preview_options,
        });
      } catch (error) {
        // Two votes refreshing to the same tally: Telegram refuses an edit that changes nothing.
        if (!(error instanceof GrammyError && /message is not modified/i.test(error.description))) throw error;
      }
    },
    replyOutcome: async (posted, view) => {
      const outcome = renderReply(outcomeReply(view));
      await api.sendMessage(posted.channelId, outcome.text, {
        parse_mode: outcome.parse_mode,
        link_preview_options: outcome.link_preview_options,
        reply_parameters: { message_id: Number(posted.messageId), allow_sending_without_reply: true },
      });
    },
  });
}
