import type { Config } from '../config.ts';
import { classifySendFailure } from './delivery-policy.ts';
import type { AlertButton } from './renter-text.ts';
import type { SendResult } from './telegram-send.ts';

// A renter linked on Discord hears about their jobs in a direct message: open (or find) the DM
// channel with the user, then post to it, with the bot's token. Plain fetch: workers/ does not
// reach into bots/, and two REST calls need no client. Failures come back classified like
// Telegram's (429 waits its retry_after, 5xx backs off, other 4xx drop: the user left every
// server the bot shares or closed their DMs).

/** `DISCORD_API_ROOT` with its version (`…/api/v10`), as bots/discord/rest.ts reads it. */
function apiBase(config: Config): string {
  const root = config.DISCORD_API_ROOT.replace(/\/+$/, '');
  return /\/v[0-9]+$/.test(root) ? root : `${root}/v10`;
}

export async function sendDiscordDm(config: Config, userId: string, text: string, buttons: AlertButton[] = []): Promise<SendResult> {
  if (!config.DISCORD_BOT_TOKEN) return { ok: false, failure: { kind: 'permanent', reason: 'DISCORD_BOT_TOKEN is not set' } };
  const headers = { authorization: `Bot ${config.DISCORD_BOT_TOKEN}`, 'content-type': 'application/json' };
  try {
    const dm = await fetch(`${apiBase(config)}/users/@me/channels`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ recipient_id: userId }),
    });
    if (!dm.ok) return { ok: false, failure: await failureOf(dm) };
    const channel = (await dm.json()) as { id?: string };
    if (!channel.id) return { ok: false, failure: { kind: 'transient', reason: 'no DM channel id in the answer' } };
    const body = {
      content: text.slice(0, 2000),
      allowed_mentions: { parse: [] },
      components: buttons.length
        ? [
            {
              type: 1,
              components: buttons
                .slice(0, 5)
                .map((b, i) => ({ type: 2, style: i === 0 ? 3 : 2, label: b.label.slice(0, 80), custom_id: b.action })),
            },
          ]
        : [],
    };
    const sent = await fetch(`${apiBase(config)}/channels/${channel.id}/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!sent.ok) return { ok: false, failure: await failureOf(sent) };
    const message = (await sent.json()) as { id?: string };
    // The outbox keeps a number; a snowflake does not fit one exactly, and nothing reads it back.
    return { ok: true, messageId: Number(BigInt(message.id ?? '0') % 1_000_000_000n) };
  } catch (error) {
    return { ok: false, failure: classifySendFailure({ description: String(error) }) };
  }
}

async function failureOf(res: Response) {
  const body = (await res.json().catch(() => ({}))) as { message?: string; retry_after?: number };
  return classifySendFailure({
    status: res.status,
    retryAfterS: body.retry_after === undefined ? undefined : Math.ceil(body.retry_after),
    description: body.message ?? `status ${res.status}`,
  });
}
