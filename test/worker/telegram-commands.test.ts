import { describe, expect, it } from 'vitest';
import { registeredAgent } from './helpers/agent.ts';
import { newFundedAccount } from './helpers/ledger.ts';
import { linkTelegram, say } from './helpers/operator.ts';
import { freshChatId, messageUpdate, postUpdate, sentTo } from './helpers/telegram.ts';

// The shared commands (bots/core) as Telegram users see them: parsed from the message text,
// answered through the Bot API stand-in, rendered as HTML with inline keyboards.

describe('shared commands in Telegram', () => {
  it('/link answers with a one-time sign-in link for this user', async () => {
    const chatId = freshChatId();
    const text = await say({ chatId }, '/link');
    expect(text).toContain('<b>Link your wallet</b>');
    const call = (await sentTo(chatId)).at(-1)!;
    const button = (call.body.reply_markup as { inline_keyboard: { text: string; url: string }[][] }).inline_keyboard[0]![0]!;
    expect(button.text).toBe('Sign in with Solana');
    expect(button.url).toMatch(/^https:\/\/gridplane\.test\/link\?token=lt_[A-Za-z0-9_-]{32}$/);
  });

  it('/balance in tokens for a linked user, and a pointer to /link for others', async () => {
    const accountId = await newFundedAccount(12_500_000);
    const chatId = await linkTelegram(accountId);
    expect(await say({ chatId }, '/balance')).toContain('12.500000 tokens available.');
    expect(await say({ chatId: freshChatId() }, '/balance')).toMatch(/Link your wallet first/);
  });

  it('/status takes its argument from the message and explains bad input', async () => {
    const agent = await registeredAgent({ name: 'tokyo-1' });
    const chatId = freshChatId();
    const status = await say({ chatId }, `/status ${agent.nodeId}`);
    expect(status).toContain('<b>tokyo-1 — online</b>');
    expect(status).toContain('2× RTX 4090');
    expect(await say({ chatId }, '/status')).toBe('Usage: /status <node>');
    expect(await say({ chatId }, '/status not-a-node')).toBe(
      '⛔ <b>That did not work</b>\n\nThere is no node named "not-a-node". /nodes lists the online ones.',
    );
    expect(await say({ chatId }, '/status tokyo-1')).toContain('<b>tokyo-1 — online</b>');
  });

  it('read-only commands answer in groups; personal ones point to a private chat', async () => {
    await registeredAgent({ name: 'group-visible' });
    const groupId = -freshChatId();
    await postUpdate(messageUpdate('/nodes', { chatId: groupId, type: 'supergroup' }));
    await postUpdate(messageUpdate('/balance', { chatId: groupId, type: 'supergroup' }));
    const [nodes, balance] = await sentTo(groupId);
    expect(String(nodes!.body.text)).toContain('<b>Online nodes</b>');
    expect(String(nodes!.body.text)).toContain('group-visible');
    expect(String(balance!.body.text)).toMatch(/works in a private chat/);
  });

  it('/mynodes lists the nodes the linked wallet owns', async () => {
    const accountId = await newFundedAccount();
    const chatId = await linkTelegram(accountId);
    const { env } = await import('cloudflare:workers');
    const wallet = (await env.DB.prepare('SELECT wallet FROM accounts WHERE id = ?').bind(accountId).first<{ wallet: string }>())!.wallet;
    const mine = await registeredAgent({ owner: wallet, name: 'mine-1' });
    await registeredAgent({ name: 'theirs-1' });
    const text = await say({ chatId }, '/mynodes');
    expect(text).toContain(`🟢 mine-1`);
    expect(text).toContain(mine.nodeId);
    expect(text).not.toContain('theirs-1');
  });
});
