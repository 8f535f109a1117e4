import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api } from './helpers/agent.ts';
import { say } from './helpers/operator.ts';
import { callbackUpdate, freshChatId, postUpdate, sentTo } from './helpers/telegram.ts';
import { challenge, newWallet, postJson, signIn } from './helpers/wallet.ts';

// Linking a chat account names that account everywhere the person decides (the page, the signed
// statement) and takes effect only when the chat user confirms it in chat, after the bot has
// shown which wallet signed. Driven through /link, the page, the sign-in routes and the buttons.

type Button = { text: string; url?: string; callback_data?: string };
const buttonsOf = (call: { body: Record<string, unknown> }) =>
  ((call.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
const linkOf = async (accountId: string) =>
  env.DB.prepare("SELECT account_id FROM account_links WHERE account_id = ? AND platform = 'telegram'").bind(accountId).first('account_id');

/** Presses a button as `userId` in its own private chat; returns the bot's answer text and buttons. */
async function press(chatId: number, data: string, userId = chatId): Promise<{ text: string; buttons: Button[] }> {
  const before = (await sentTo(chatId)).length;
  expect((await postUpdate(callbackUpdate(data, { chatId, userId }))).status).toBe(200);
  const sent = await sentTo(chatId);
  expect(sent.length).toBe(before + 1);
  return { text: String(sent.at(-1)!.body.text), buttons: buttonsOf(sent.at(-1)!) };
}

async function startLink(chatId: number): Promise<{ token: string; confirm: string }> {
  await say({ chatId }, '/link');
  const buttons = buttonsOf((await sentTo(chatId)).at(-1)!);
  const token = new URL(buttons.find((b) => b.text === 'Sign in with Solana')!.url!).searchParams.get('token')!;
  const confirm = buttons.find((b) => b.text === 'Confirm link')!.callback_data!;
  expect(confirm).toMatch(/^link:check:[0-9a-f]{16}$/);
  return { token, confirm };
}

describe('linking a Telegram account', () => {
  it('names the Telegram user on the page and in the signed statement, and links only on their Confirm, which shows the wallet', async () => {
    const chatId = freshChatId();
    const { token, confirm } = await startLink(chatId);
    const who = `Telegram user Ada (id ${chatId})`;

    const page = await (await api(`/link?token=${token}`, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(`Link ${who} to this wallet.`);
    const wallet = await newWallet();
    const { message } = await challenge(wallet, token);
    expect(message).toContain(`Sign in to gridplane and link ${who} to this wallet (confirmed in chat).`);

    // Pressed before anyone signed: nothing to confirm yet.
    expect((await press(chatId, confirm)).text).toContain('Nobody has signed in with this link yet');

    const signed = await signIn(wallet, token);
    expect(signed.linked).toEqual({ platform: 'telegram', platformUserId: String(chatId), platformUserName: 'Ada', confirmed: false });
    expect(await linkOf(signed.accountId)).toBeNull();
    expect(await say({ chatId }, '/balance')).toMatch(/Link your wallet first/);

    // Someone else pressing this user's button (in their own chat) gets nothing.
    const stranger = freshChatId();
    expect((await press(stranger, confirm)).text).toMatch(/not for you/);

    const check = await press(chatId, confirm);
    expect(check.text).toContain(`Link ${who} to wallet ${wallet.address}?`);
    const ok = check.buttons.find((b) => b.text === 'Confirm')!.callback_data!;
    expect(await linkOf(signed.accountId)).toBeNull();
    expect((await press(chatId, ok)).text).toContain(`${who} is now linked to wallet ${wallet.address}.`);
    expect(await linkOf(signed.accountId)).toBe(signed.accountId);
    expect(await say({ chatId }, '/balance')).toContain('tokens available.');
    // A second press changes nothing.
    expect((await press(chatId, ok)).text).toContain(`linked to wallet ${wallet.address}`);
  });

  it('a Cancel leaves the chat user unlinked for good, and a used token gets no second sign-in', async () => {
    const chatId = freshChatId();
    const { token, confirm } = await startLink(chatId);
    const signed = await signIn(await newWallet(), token);
    const check = await press(chatId, confirm);
    const no = check.buttons.find((b) => b.text === 'Cancel')!.callback_data!;
    expect((await press(chatId, no)).text).toMatch(/is not linked/);
    const ok = check.buttons.find((b) => b.text === 'Confirm')!.callback_data!;
    expect((await press(chatId, ok)).text).toMatch(/You cancelled this link; nothing was linked/);
    expect(await linkOf(signed.accountId)).toBeNull();
    const other = await newWallet();
    expect((await postJson('/v1/auth/siws/challenge', { address: other.address, linkToken: token })).status).toBe(409);
  });
});
