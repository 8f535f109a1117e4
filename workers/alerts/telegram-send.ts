import { Api, GrammyError, HttpError } from 'grammy';
import type { Config } from '../config.ts';
import { classifySendFailure, type SendFailure } from './delivery-policy.ts';
import type { AlertButton } from './renter-text.ts';

export type SendResult = { ok: true; messageId: number } | { ok: false; failure: SendFailure };

/** A Bot API client for server-initiated messages (alerts); same token and apiRoot as the bot. */
export function alertApi(config: Config): Api | null {
  if (!config.TELEGRAM_BOT_TOKEN) return null;
  return new Api(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT.replace(/\/+$/, ''), timeoutSeconds: 15 });
}

/** Sends one plain-text message (with its buttons, as an inline keyboard); every failure comes back classified, never thrown. */
export async function sendAlertMessage(api: Api, chatId: string, text: string, buttons: AlertButton[] = []): Promise<SendResult> {
  try {
    const message = await api.sendMessage(chatId, text, {
      link_preview_options: { is_disabled: true },
      ...(buttons.length ? { reply_markup: { inline_keyboard: [buttons.map((b) => ({ text: b.label, callback_data: b.action }))] } } : {}),
    });
    return { ok: true, messageId: message.message_id };
  } catch (error) {
    if (error instanceof GrammyError) {
      return {
        ok: false,
        failure: classifySendFailure({
          status: error.error_code,
          retryAfterS: error.parameters.retry_after,
          description: error.description,
        }),
      };
    }
    const description = error instanceof HttpError ? error.message : String(error);
    return { ok: false, failure: classifySendFailure({ description }) };
  }
}
