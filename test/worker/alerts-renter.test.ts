import { env, exports } from 'cloudflare:workers';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { pumpRenterAlerts } from '../../workers/alerts/renter-pumps.ts';
import { linkDiscordUser, snowflake } from './helpers/discord.ts';
import { json, jobBody, newRenter, nodeAt, sendEvent } from './helpers/jobs.ts';
import { linkTelegram } from './helpers/operator.ts';
import { botCalls, callbackUpdate, eventually, messageUpdate, postUpdate, sentTo, freshChatId } from './helpers/telegram.ts';
import { newWallet, signIn } from './helpers/wallet.ts';
import type { RecordedRequest } from './setup/discord-api.ts';

// The renter hears what happens to their rental in every chat linked to their account, through
// the alert pipeline (pumps → queue → fan-out → AlertChat), without any /alerts subscription:
// Telegram in the private chat, Discord as a direct message.

const cron = (scheduledTime: number) =>
  (exports.default as unknown as { scheduled(c: { cron: string; scheduledTime: number }): Promise<void> }).scheduled({
    cron: '* * * * *',
    scheduledTime,
  });

async function discordDms(userId: string): Promise<string[]> {
  const received = (await (await fetch(`http://127.0.0.1:${inject('discordApiPort')}/__requests`)).json()) as RecordedRequest[];
  const channel = `9${userId}`.slice(0, 20);
  return received
    .filter((r) => r.method === 'POST' && r.path === `/api/v10/channels/${channel}/messages`)
    .map((r) => String((r.body as { content: string }).content));
}

const texts = async (chatId: number) => (await sentTo(chatId)).map((c) => String(c.body.text));

describe('renter alerts', () => {
  it('tells the renter, on Telegram and Discord, that the job started, when it ends, and that it failed with the refund', async () => {
    const node = await nodeAt(48.86, 2.35, 'FR', { name: 'paris-rig', pricePerGpuHour: '1.000000' });
    const renter = await newRenter('50.000000');
    const chatId = await linkTelegram(renter.accountId);
    const discordUser = snowflake();
    await linkDiscordUser(discordUser, renter.accountId);

    const job = await json<{ id: string; escrow: string }>(await renter.call('POST', '/v1/jobs', jobBody({ durationS: 1800 })), 201);
    expect((await json(await sendEvent(node, job.id, { kind: 'accepted' }), 200)).status).toBe('starting');
    expect((await json(await sendEvent(node, job.id, { kind: 'started' }), 200)).status).toBe('running');
    await cron(Date.now());
    const started = await eventually(async () => {
      const list = await texts(chatId);
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    expect(started).toMatch(
      new RegExp(
        `^▶️ Your rental ${job.id} is running on paris-rig: 1× RTX 4090, until \\d\\d:\\d\\d UTC \\(in (29|30) min\\)\\. /job ${job.id} shows it; /cancel ${job.id} stops it early`,
      ),
    );
    expect(started).not.toMatch(/\d{4}-\d\d-\d\dT/);
    await eventually(async () => expect((await discordDms(discordUser))[0]).toBe(started));

    // The "ends soon" notice, ten minutes before the end (the pump judged at that instant).
    const row = await env.DB.prepare('SELECT started_at FROM jobs WHERE id = ?').bind(job.id).first<{ started_at: number }>();
    const endsAt = row!.started_at + 1800_000;
    expect((await pumpRenterAlerts(env, endsAt - 11 * 60_000)).emitted).toBe(0);
    expect((await pumpRenterAlerts(env, endsAt - 9 * 60_000)).emitted).toBe(1);
    const ending = await eventually(async () => {
      const list = await texts(chatId);
      expect(list).toHaveLength(2);
      return list[1]!;
    });
    expect(ending).toMatch(
      new RegExp(`^⏳ Your rental ${job.id} on paris-rig ends at \\d\\d:\\d\\d UTC \\(in (29|30) min\\)\\. Save your work`),
    );

    // It fails: the reason and the money, once, in both places.
    expect(
      (
        await json(
          await sendEvent(node, job.id, { kind: 'finished', exitCode: 1, reason: 'error', receipt: { gpuSeconds: 60, runSeconds: 60 } }),
          200,
        )
      ).status,
    ).toBe('failed');
    const settled = await env.DB.prepare('SELECT captured, refunded, billed_gpu_seconds FROM jobs WHERE id = ?')
      .bind(job.id)
      .first<{ captured: number; refunded: number; billed_gpu_seconds: number }>();
    expect(settled!.refunded).toBeGreaterThan(0);
    expect(settled!.captured).toBeGreaterThan(0);
    expect(settled!.billed_gpu_seconds).toBeLessThan(60);
    await cron(Date.now());
    await cron(Date.now());
    const failed = await eventually(async () => {
      const list = await texts(chatId);
      expect(list).toHaveLength(3);
      return list[2]!;
    });
    const tokens = (n: number) => (n / 1e6).toFixed(6).replace(/\.?0+$/, '');
    expect(failed).toBe(
      // Billed for what the server saw run (seconds here), never the agent's claimed minute.
      `❌ Your rental ${job.id} on paris-rig failed: its command exited with code 1. ${tokens(settled!.captured)} tokens charged for ${settled!.billed_gpu_seconds} s, ${tokens(settled!.refunded)} refunded to your balance.`,
    );
    await eventually(async () => expect(await discordDms(discordUser)).toEqual([started, ending, failed]));
  });

  it('a wallet sign-in through /link says so in the chat it came from, with the Confirm button there', async () => {
    const chatId = freshChatId();
    expect((await postUpdate(messageUpdate('/link', { chatId }))).status).toBe(200);
    const [answer] = await sentTo(chatId);
    const url = (answer!.body.reply_markup as { inline_keyboard: { text: string; url?: string }[][] }).inline_keyboard
      .flat()
      .find((b) => b.url)!.url!;
    const token = new URL(url).searchParams.get('token')!;
    const wallet = await newWallet();
    await signIn(wallet, token);
    const notice = await eventually(async () => {
      const list = await sentTo(chatId);
      expect(list).toHaveLength(2);
      return list[1]!;
    });
    expect(String(notice.body.text)).toBe(
      `🔗 Wallet ${wallet.address} signed in with your /link. Link Telegram user Ada (id ${chatId}) to it? Confirm only if you signed in yourself.`,
    );
    const buttons = (notice.body.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toEqual(['Confirm', 'Cancel']);
    expect((await postUpdate(callbackUpdate(buttons[0]!.callback_data, { chatId }))).status).toBe(200);
    const linked = (await sentTo(chatId)).at(-1)!;
    expect(String(linked.body.text)).toContain(`is now linked to wallet ${wallet.address}`);
    expect((await botCalls({ chatId, method: 'editMessageReplyMarkup' })).length).toBe(1);
  });
});
