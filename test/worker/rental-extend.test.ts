import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { AppError } from '../../workers/errors.ts';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { getEndpoint } from '../../workers/endpoints/endpoints.repo.ts';
import { patchEndpoint } from '../../workers/endpoints/endpoints.service.ts';
import { extendRental } from '../../workers/endpoints/extend-rental.ts';
import { buttonPress, discordHarness, linkDiscordUser, snowflake } from './helpers/discord.ts';
import { cron, labels, plain, screens, send, tap } from './helpers/conversation.ts';
import { nodeAt } from './helpers/jobs.ts';
import { newFundedAccount, testDb } from './helpers/ledger.ts';
import { linkTelegram } from './helpers/operator.ts';
import { eventually } from './helpers/telegram.ts';
import type { RecordedRequest } from './setup/discord-api.ts';

type DiscordButton = { label: string; custom_id: string };
/** The DMs the Discord API stand-in got for this user: content and buttons. */
async function discordDms(userId: string): Promise<{ content: string; buttons: DiscordButton[] }[]> {
  const received = (await (await fetch(`http://127.0.0.1:${inject('discordApiPort')}/__requests`)).json()) as RecordedRequest[];
  const channel = `9${userId}`.slice(0, 20);
  return received
    .filter((r) => r.method === 'POST' && r.path === `/api/v10/channels/${channel}/messages`)
    .map((r) => {
      const body = r.body as { content: string; components?: { components: DiscordButton[] }[] };
      return { content: String(body.content), buttons: (body.components ?? []).flatMap((row) => row.components) };
    });
}

// A template rental's end in the chat (issue 15): shortly before it, the renter is told when it
// ends and what it cost so far, with Extend buttons; a press moves the end once (a second press of
// the same button changes nothing, on Telegram or from the Discord DM); after the (new) end the
// cron stops it and the renter is told.

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => (e instanceof AppError ? { status: e.status, code: e.code } : e),
  );

describe('a template rental ends, by Telegram', () => {
  it('tells the renter before the end with Extend buttons; Extend moves the end once; the end is told', async () => {
    await nodeAt(48.86, 2.35, 'FR', {
      name: 'ext-rig',
      gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 1 }],
      pricePerGpuHour: '1.500000',
    });
    // 5 tokens: the 1 h rental (1.5) and one more hour fit, four more hours do not.
    const accountId = await newFundedAccount(5_000_000);
    const chatId = await linkTelegram(accountId);
    const discordUser = snowflake();
    await linkDiscordUser(discordUser, accountId);

    let screen = await send(chatId, '/rent');
    screen = await tap(chatId, screen, 'RTX 4090');
    screen = await tap(chatId, screen, '1');
    screen = await tap(chatId, screen, '1 h');
    screen = await tap(chatId, screen, 'Europe (west)');
    const rented = plain((await tap(chatId, screen, 'Jupyter notebook (PyTorch)')).body.text);
    const endpointId = /\/e\/(ep_[0-9a-f]{32})\//.exec(rented)?.[1];
    expect(endpointId, rented).toBeDefined();
    const firstEnd = (await getEndpoint(testDb(), endpointId!))!.stopAt!;

    // The minute cron inside the last 10 minutes (twice: a repeat tick tells once).
    await cron(firstEnd - 5 * 60_000);
    await cron(firstEnd - 4 * 60_000);
    const ending = await eventually(async () => {
      const last = (await screens(chatId)).at(-1)!;
      expect(String(last.body.text)).toMatch(/^⏳/);
      return last;
    });
    expect(plain(ending.body.text)).toMatch(
      new RegExp(
        `^⏳ Your notebook rental \\(${endpointId}\\) ends at \\d\\d:\\d\\d UTC \\(in (59 min|1 h)\\): its GPUs are released then\\. Cost so far: \\d+(\\.\\d+)? tokens\\. Extend it below to keep going\\.$`,
      ),
    );
    expect(labels(ending)).toEqual(['Extend 1 h', 'Extend 30 min']);
    // The same notice as a Discord DM, with the same buttons.
    const dm = await eventually(async () => {
      const found = (await discordDms(discordUser)).find((m) => m.content.startsWith('⏳'));
      expect(found).toBeDefined();
      return found!;
    });
    expect(dm.content).toBe(String(ending.body.text));
    expect(dm.buttons.map((b) => b.label)).toEqual(['Extend 1 h', 'Extend 30 min']);

    const extended = plain((await tap(chatId, ending, 'Extend 1 h')).body.text);
    expect(extended).toMatch(
      /^✅ notebook rental extended\n\nIt runs until \d\d:\d\d UTC \(in 1 h\) now \(60 min more, at most 1\.500000 tokens, billed per ready second\)\.$/,
    );
    const newEnd = firstEnd + 3_600_000;
    expect((await getEndpoint(testDb(), endpointId!))!.stopAt).toBe(newEnd);

    // The same button again (a double tap, the message read later): nothing changes, and it says so.
    for (const label of ['Extend 1 h', 'Extend 30 min']) {
      const again = plain((await tap(chatId, ending, label)).body.text);
      expect(again).toMatch(
        /^⚠️ notebook rental: already extended\n\nNothing changed: this button's end was moved already\. It runs until \d\d:\d\d UTC \(in 1 h\)\.$/,
      );
      expect((await getEndpoint(testDb(), endpointId!))!.stopAt).toBe(newEnd);
    }

    // The Discord DM's button after the Telegram press: the same end, already moved, nothing changes.
    const h = await discordHarness();
    const press = await h.interact(buttonPress(dm.buttons[0]!.custom_id, { userId: discordUser }));
    expect(press.status).toBe(200);
    const answer = ((await press.json()) as { data: { embeds: { title?: string; description?: string }[] } }).data.embeds[0]!;
    expect(answer.title).toBe('notebook rental: already extended');
    expect((await getEndpoint(testDb(), endpointId!))!.stopAt).toBe(newEnd);

    // The domain's refusals, as the chat shows them (AppError messages): someone else's rental is
    // not found; more than the balance covers is 402; an end that is not the current one moves nothing.
    const ctx = endpointsContext(env);
    const stranger = await newFundedAccount(100_000_000);
    expect(await refusal(extendRental(ctx, stranger, endpointId!, newEnd, 3600, Date.now()))).toEqual({
      status: 404,
      code: 'endpoint_not_found',
    });
    expect(await refusal(extendRental(ctx, accountId, endpointId!, newEnd, 4 * 3600, Date.now()))).toEqual({
      status: 402,
      code: 'insufficient_funds',
    });
    expect((await extendRental(ctx, accountId, endpointId!, firstEnd, 1800, Date.now())).kind).toBe('unchanged');
    expect((await getEndpoint(testDb(), endpointId!))!.stopAt).toBe(newEnd);

    // After the new end, the cron stops it and the renter hears it ended.
    await cron(newEnd + 1000);
    const ended = await eventually(async () => {
      const last = (await screens(chatId)).at(-1)!;
      expect(String(last.body.text)).toMatch(/^⌛/);
      return last;
    });
    expect(plain(ended.body.text)).toMatch(
      new RegExp(
        `^⌛ Your notebook rental \\(${endpointId}\\) ended at \\d\\d:\\d\\d UTC: its time was up\\. It cost \\d+(\\.\\d+)? tokens in all; the rest of its hold goes back to your balance\\. /rent starts a new one\\.$`,
      ),
    );
    expect(await getEndpoint(testDb(), endpointId!)).toMatchObject({ status: 'stopped', statusReason: 'rental_ended' });
    // Told once before the end: the repeat tick's notice was the same event.
    expect((await screens(chatId)).filter((s) => String(s.body.text).startsWith('⏳'))).toHaveLength(1);
    // Extending it after the end: refused with a clear answer, nothing moves.
    expect(await refusal(extendRental(ctx, accountId, endpointId!, newEnd, 1800, Date.now()))).toEqual({
      status: 409,
      code: 'rental_ended',
    });
    expect((await getEndpoint(testDb(), endpointId!))!.stopAt).toBe(newEnd);
    // Nor restarted: `status: "active"` would have the next tend stop it again at once.
    const endedRow = (await getEndpoint(testDb(), endpointId!))!;
    expect(await refusal(patchEndpoint(ctx, endedRow, { status: 'active' }, null, newEnd + 2000))).toEqual({
      status: 409,
      code: 'rental_ended',
    });
    expect(await getEndpoint(testDb(), endpointId!)).toMatchObject({
      status: 'stopped',
      statusReason: 'rental_ended',
      version: endedRow.version,
    });
  });
});
