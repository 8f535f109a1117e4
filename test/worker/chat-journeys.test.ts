import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { nodeAt, sendEvent, json } from './helpers/jobs.ts';
import { mintTo } from './helpers/ledger.ts';
import { eventually, freshChatId, messageUpdate, postUpdate } from './helpers/telegram.ts';
import { buttonsOf, cron, labels, plain, screens, send, tap } from './helpers/conversation.ts';
import { newWallet, signIn } from './helpers/wallet.ts';

// Conversations as a person has them: updates posted to the webhook exactly as Telegram sends
// them, and at each step the text and buttons the person sees (what the Bot API stand-in got).

describe('chat journeys (Telegram)', () => {
  it('a new user goes from /start to a running rental without reading anything but the chat', async () => {
    const node = await nodeAt(48.86, 2.35, 'FR', {
      name: 'ada-rig',
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }],
      pricePerGpuHour: '1.000000',
    });
    const chatId = freshChatId();

    expect(plain((await send(chatId, '/start')).body.text)).toMatch(/^Welcome!/);

    // /rent checks the link before the first tap, and offers the button that does it.
    let screen = await send(chatId, '/rent');
    expect(plain(screen.body.text)).toMatch(/^⛔ Link your wallet to rent\n\nLink your wallet first/);
    expect(labels(screen)).toEqual(['Link my wallet']);
    screen = await tap(chatId, screen, 'Link my wallet');
    expect(plain(screen.body.text)).toMatch(/^Link your wallet\n\nOpen the link and sign in/);
    expect(plain(screen.body.text)).toMatch(/The link works once, until \d\d:\d\d UTC \(in 1[45] min\)\./);
    expect(labels(screen)).toEqual(['Sign in with Solana', 'Confirm link']);

    // The wallet page (the same routes the page calls); the chat hears about it by itself.
    const url = buttonsOf(screen).find((b) => b.url)!.url!;
    const wallet = await newWallet();
    const signedIn = await signIn(wallet, new URL(url).searchParams.get('token')!);
    screen = await eventually(async () => {
      const last = (await screens(chatId)).at(-1)!;
      expect(String(last.body.text)).toMatch(/^🔗 Wallet/);
      return last;
    });
    expect(labels(screen)).toEqual(['Confirm', 'Cancel']);
    screen = await tap(chatId, screen, 'Confirm');
    expect(plain(screen.body.text)).toBe(`✅ Linked\n\nTelegram user Ada (id ${chatId}) is now linked to wallet ${wallet.address}.`);

    await mintTo(signedIn.accountId, 20_000_000);
    screen = await send(chatId, '/rent');
    expect(plain(screen.body.text)).toBe('Rent GPUs — which model?');
    screen = await tap(chatId, screen, 'RTX 4090');
    screen = await tap(chatId, screen, '1');
    screen = await tap(chatId, screen, '1 h');
    screen = await tap(chatId, screen, 'Europe (west)');
    expect(plain(screen.body.text)).toContain('1× RTX 4090 for 1 h');
    // Confirm rents the GPUs as a job; the catalogue's templates start on them instead.
    expect(labels(screen)).toEqual(['Confirm', 'Cancel', 'Jupyter notebook (PyTorch)', 'Chat model (OpenAI API)', 'Shell (web terminal)']);
    const quote = screen;
    screen = await tap(chatId, quote, 'Confirm');
    const jobId = /job (job_[0-9a-f]+) is/.exec(plain(screen.body.text))?.[1];
    expect(plain(screen.body.text)).toMatch(/^✅ Rented\n\n1× RTX 4090 for 1 h: job job_[0-9a-f]+ is assigned\./);

    // A stale Cancel of the confirmed quote must not claim nothing was held.
    screen = await tap(chatId, quote, 'Cancel');
    expect(plain(screen.body.text)).toBe(
      `⚠️ Already rented\n\nThis quote was confirmed: job ${jobId} is assigned, with 1.000000 tokens held in escrow. /cancel ${jobId} stops it (you pay only for the time it ran).`,
    );

    // The node starts it; the renter is told, with when it ends.
    expect((await json(await sendEvent(node, jobId!, { kind: 'accepted' }), 200)).status).toBe('starting');
    expect((await json(await sendEvent(node, jobId!, { kind: 'started' }), 200)).status).toBe('running');
    await cron(Date.now());
    screen = await eventually(async () => {
      const last = (await screens(chatId)).at(-1)!;
      expect(String(last.body.text)).toMatch(/^▶️/);
      return last;
    });
    expect(String(screen.body.text)).toMatch(
      new RegExp(`^▶️ Your rental ${jobId} is running on ada-rig: 1× RTX 4090, until \\d\\d:\\d\\d UTC \\(in (59|60) min\\)\\.`),
    );
    const escrow = await env.DB.prepare('SELECT escrow_amount FROM jobs WHERE id = ?').bind(jobId).first<{ escrow_amount: number }>();
    expect(escrow!.escrow_amount).toBe(1_000_000);
  });

  it('wrong turns get an answer that points somewhere useful', async () => {
    const chatId = freshChatId();
    expect(String((await send(chatId, '/frobnicate now')).body.text)).toBe(
      "I don't know /frobnicate. Try /rent to rent GPUs, /link to connect your wallet, /balance, /jobs, or /help for everything I do.",
    );
    expect(String((await send(chatId, 'hello, can I rent a GPU?')).body.text)).toBe(
      'I answer commands, not messages. Try /rent to rent GPUs, /link to connect your wallet, /balance, /jobs, or /help for everything I do.',
    );
    // Every "link first" carries the button that does it.
    for (const command of ['/balance', '/jobs', '/deposit 5']) {
      const screen = await send(chatId, command);
      expect(plain(screen.body.text)).toMatch(/Link your wallet first/);
      expect(labels(screen)).toEqual(['Link my wallet']);
    }
    // In a group, free text stays the group's own.
    const groupId = -freshChatId();
    expect((await postUpdate(messageUpdate('anyone here?', { chatId: groupId, userId: chatId, type: 'group' }))).status).toBe(200);
    expect((await postUpdate(messageUpdate('/help', { chatId: groupId, userId: chatId, type: 'group' }))).status).toBe(200);
    const inGroup = await screens(groupId);
    expect(inGroup).toHaveLength(1); // the /help answer only: that it came is the positive signal
    expect(String(inGroup[0]!.body.text)).toMatch(/^gridplane: rent GPUs/);
  });
});
