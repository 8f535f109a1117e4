import type { UserFromGetMe } from 'grammy/types';
import type { Config } from '../../workers/config.ts';
import { AppError } from '../../workers/errors.ts';

export interface TelegramSettings {
  token: string;
  webhookSecret: string;
  apiRoot: string;
  botInfo: UserFromGetMe;
}

/**
 * What the bot needs, from configuration only: the bot's id is the token's prefix and its
 * username is TELEGRAM_BOT_USERNAME, so grammY never has to call getMe before an update.
 */
export function telegramSettings(config: Config): TelegramSettings {
  const token = config.TELEGRAM_BOT_TOKEN;
  const webhookSecret = config.TELEGRAM_WEBHOOK_SECRET;
  if (!token || !webhookSecret) {
    throw new AppError(
      503,
      'telegram_not_configured',
      'The Telegram bot is not configured on this deployment.',
      'TELEGRAM_BOT_TOKEN or TELEGRAM_WEBHOOK_SECRET is unset',
    );
  }
  return {
    token,
    webhookSecret,
    apiRoot: config.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    botInfo: botInfoFor(token, config.TELEGRAM_BOT_USERNAME),
  };
}

export function botInfoFor(token: string, username: string): UserFromGetMe {
  return {
    id: Number(token.slice(0, token.indexOf(':'))),
    is_bot: true,
    first_name: 'gridplane',
    username,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
}
