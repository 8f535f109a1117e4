import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { errorOf } from './helpers/agent.ts';
import { botCalls, freshChatId, messageUpdate, postUpdate, sentTo, BOT_USERNAME } from './helpers/telegram.ts';

const claimed = async (updateId: number) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM telegram_updates WHERE update_id = ?').bind(updateId).first<{ n: number }>())!.n;

describe('POST /telegram/webhook', () => {
  it('answers /help with a real sendMessage to the Bot API, with no getMe', async () => {
    const chatId = freshChatId();
    const res = await postUpdate(messageUpdate('/help', { chatId }));
    expect(res.status).toBe(200);
    const sent = await sentTo(chatId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.token).toBe('123456789:TEST-token_abcdefghijklmnopqrstuv');
    expect(String(sent[0]!.body.text)).toContain('/rent');
    expect((await botCalls({ method: 'getMe' })).length).toBe(0);
  });

  it.each([
    ['missing', null],
    ['wrong', 'not-the-secret-at-all'],
    ['almost right', 'test-telegram-webhook-secreT'],
  ])('refuses a %s secret with 401 and does nothing', async (_label, secret) => {
    const chatId = freshChatId();
    const update = messageUpdate('/help', { chatId });
    const res = await postUpdate(update, secret);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('unauthorized');
    expect(await claimed(update.update_id as number)).toBe(0);
    // The webhook runs the bot inside the request (telegram.app.ts awaits grammY's handler), so a
    // refused request that had started it would have sent before its 401 came back. The same
    // update then sent with the right secret is answered, once: its answer is the chat's only message.
    expect((await postUpdate(update)).status).toBe(200);
    const sent = await sentTo(chatId);
    expect(sent).toHaveLength(1);
    expect(String(sent[0]!.body.text)).toContain('/rent');
    expect(await claimed(update.update_id as number)).toBe(1);
  });

  it('handles the same update five times exactly once', async () => {
    const chatId = freshChatId();
    const update = messageUpdate('/help', { chatId });
    const responses = await Promise.all(Array.from({ length: 3 }, () => postUpdate(update)));
    responses.push(await postUpdate(update), await postUpdate(update));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await claimed(update.update_id as number)).toBe(1);
    expect(await sentTo(chatId)).toHaveLength(1);
  });

  it('refuses malformed updates with a 400 and claims nothing', async () => {
    const res = await exports_fetch('{"update_id": "twelve"}');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_request');
    const bad = await exports_fetch('not json');
    expect((await errorOf(bad)).code).toBe('malformed_json');
  });

  it('keeps money-moving commands out of group chats', async () => {
    const groupId = -freshChatId();
    const userId = freshChatId();
    await postUpdate(messageUpdate('/rent', { chatId: groupId, userId, type: 'group' }));
    await postUpdate(messageUpdate(`/link@${BOT_USERNAME}`, { chatId: groupId, userId, type: 'supergroup' }));
    const sent = await sentTo(groupId);
    expect(sent).toHaveLength(2);
    for (const call of sent) {
      expect(String(call.body.text)).toMatch(/works in a private chat/);
      const button = (call.body.reply_markup as { inline_keyboard: { url: string }[][] }).inline_keyboard[0]![0]!;
      expect(button.url).toMatch(new RegExp(`^https://t.me/${BOT_USERNAME}\\?start=(rent|link)$`));
    }
    // Nothing personal was created for the user: no link token, no flow.
    const tokens = await env.DB.prepare('SELECT count(*) AS n FROM link_tokens WHERE platform_user_id = ?')
      .bind(String(userId))
      .first<{ n: number }>();
    expect(tokens!.n).toBe(0);
    // Read-only commands still answer in the group.
    await postUpdate(messageUpdate('/help', { chatId: groupId, userId, type: 'group' }));
    expect(await sentTo(groupId)).toHaveLength(3);
  });

  it('ignores commands addressed to another bot in a group', async () => {
    const groupId = -freshChatId();
    const res = await postUpdate(messageUpdate('/help@some_other_bot', { chatId: groupId, type: 'group' }));
    expect(res.status).toBe(200);
    expect(await sentTo(groupId)).toEqual([]);
  });
});

function exports_fetch(body: string) {
  return postRaw(body);
}

async function postRaw(body: string): Promise<Response> {
  const { exports } = await import('cloudflare:workers');
  return exports.default.fetch(
    new Request('https://gridplane.test/telegram/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'test-telegram-webhook-secret' },
      body,
    }),
  );
}
