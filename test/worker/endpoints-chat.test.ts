import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { endpointsContext } from '../../workers/endpoints/endpoints-context.ts';
import { endpointCreateSchema } from '../../workers/endpoints/endpoint-input.schema.ts';
import { createEndpoint } from '../../workers/endpoints/endpoints.service.ts';
import { getEndpoint } from '../../workers/endpoints/endpoints.repo.ts';
import { recordReplicaState } from '../../workers/endpoints/replica-reports.ts';
import { tendEndpoint } from '../../workers/endpoints/tend.ts';
import { wakeEndpoint } from '../../workers/endpoints/wake.ts';
import { TrafficCounters } from '../../workers/gateway/traffic-stats.ts';
import { buttonPress, command, discordHarness, linkDiscordUser, snowflake } from './helpers/discord.ts';
import { nodeAt, type ReadyNode } from './helpers/jobs.ts';
import { newFundedAccount, testDb } from './helpers/ledger.ts';
import { linkTelegram } from './helpers/operator.ts';
import { botCalls, callbackUpdate, messageUpdate, postUpdate } from './helpers/telegram.ts';
import type { RecordedCall } from './setup/telegram-api.ts';

// Endpoints and template rentals in the chats (issues 12 and 15), through the webhooks exactly as
// Telegram and Discord send them, asserting what a person sees: a notebook rented by taps to the
// "Rented" message with its URL and token; /endpoints with replicas (node, country, region, ready),
// traffic and cost, its +1 / −1 / Stop buttons and their stale presses; an operator's /status
// naming the replicas its node serves.

type Button = { text: string; callback_data?: string };
const buttonsOf = (call: RecordedCall) =>
  ((call.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
const labels = (call: RecordedCall) => buttonsOf(call).map((b) => b.text);
/** The message as read: tags gone, entities decoded. */
const plain = (html: unknown) =>
  String(html)
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const screens = async (chatId: number) =>
  (await botCalls({ chatId })).filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText');

async function send(chatId: number, text: string): Promise<RecordedCall> {
  const before = (await screens(chatId)).length;
  expect((await postUpdate(messageUpdate(text, { chatId }))).status).toBe(200);
  const after = await screens(chatId);
  expect(after.length, `an answer to ${text}`).toBe(before + 1);
  return after.at(-1)!;
}

/** Presses a button of a screen (stale ones too: the callback data is what Telegram would send) and returns what is shown next. */
async function tap(chatId: number, screen: RecordedCall, label: string): Promise<RecordedCall> {
  const button = buttonsOf(screen).find((b) => b.text === label);
  expect(button, `no button ${label} in ${labels(screen).join(', ')}`).toBeDefined();
  expect(new TextEncoder().encode(button!.callback_data!).length).toBeLessThanOrEqual(64);
  const before = (await screens(chatId)).length;
  expect((await postUpdate(callbackUpdate(button!.callback_data!, { chatId, messageId: screen.seq }))).status).toBe(200);
  const after = await screens(chatId);
  expect(after.length, `something shown after ${label}`).toBeGreaterThan(before);
  return after.at(-1)!;
}

let paris: ReadyNode;
const parisNode = async () =>
  (paris ??= await nodeAt(48.86, 2.35, 'FR', {
    gpus: [{ model: 'NVIDIA GeForce RTX 4090', vramMb: 24564, count: 4 }],
    pricePerGpuHour: '1.500000',
  }));

async function apiEndpoint(accountId: string, name: string, replicas: { min: number; max: number }) {
  const request = endpointCreateSchema.parse({
    name,
    image: 'python:3.12-slim',
    port: 8000,
    gpu: { model: 'RTX 4090', count: 1 },
    maxPricePerGpuHour: '2.0',
    replicas,
  });
  return (
    await createEndpoint(
      endpointsContext(env),
      { accountId, request, regions: [{ lat: 48.86, lon: 2.35 }], maxPrice: 2_000_000n, idempotencyKey: null },
      Date.now(),
    )
  ).endpoint;
}

describe('a template rental by Telegram taps', () => {
  it('rents a notebook: the Rented message gives the URL, its token, the link to open, how long and the cost; a double tap rents once; it stops at the end', async () => {
    await parisNode();
    const accountId = await newFundedAccount(100_000_000);
    const chatId = await linkTelegram(accountId);

    let screen = await send(chatId, '/rent');
    screen = await tap(chatId, screen, 'RTX 4090');
    screen = await tap(chatId, screen, '1');
    screen = await tap(chatId, screen, '1 h');
    screen = await tap(chatId, screen, 'Europe (west)');
    // The quote offers the catalogue: Confirm rents the GPUs as a job, a template starts on them.
    expect(labels(screen)).toEqual(['Confirm', 'Cancel', 'Jupyter notebook (PyTorch)', 'Chat model (OpenAI API)', 'Shell (web terminal)']);
    expect(plain(screen.body.text)).toContain('Jupyter notebook (PyTorch): JupyterLab with PyTorch and CUDA, in your browser.');
    const quote = screen;

    const rented = plain((await tap(chatId, quote, 'Jupyter notebook (PyTorch)')).body.text);
    expect(rented).toMatch(/^✅ Rented\n\nJupyter notebook \(PyTorch\) on 1× RTX 4090 for 1 h\./);
    const url = /URL: (https?:\/\/\S+\/e\/(ep_[0-9a-f]{32})\/)\n/.exec(rented);
    expect(url, rented).not.toBeNull();
    const [, endpointUrl, endpointId] = url!;
    const token = /\nToken: ([A-Za-z0-9_-]{32})\n/.exec(rented)?.[1];
    expect(token, rented).toBeDefined();
    expect(rented).toContain(`Open in your browser: ${endpointUrl}lab?token=${token}`);
    expect(rented).toMatch(/Runs: until \d\d:\d\d UTC \(in (59 min|1 h)\), then stops by itself/);
    expect(rented).toContain('Costs so far: 0.000000 tokens (at most 1.500000)');
    expect(rented).toContain('SIMULATED');

    // What was made: an endpoint of the notebook template, one replica, open at the gateway (the
    // server checks its own token), the stand-in's command (process runtime in tests), an end time.
    const endpoint = (await getEndpoint(testDb(), endpointId!))!;
    expect(endpoint).toMatchObject({
      accountId,
      minReplicas: 1,
      maxReplicas: 1,
      public: true,
      port: 8888,
      healthPath: '/api',
      status: 'active',
    });
    expect(JSON.parse(endpoint.env)).toMatchObject({ JUPYTER_TOKEN: token, GP_TOKEN: token, GP_TEMPLATE: 'notebook' });
    expect(JSON.parse(endpoint.command)[0]).toBe('node');
    expect(endpoint.stopAt! - endpoint.createdAt).toBe(3_600_000);

    // The same button again (a double tap, a retried update): the same endpoint, the same token.
    const again = plain((await tap(chatId, quote, 'Jupyter notebook (PyTorch)')).body.text);
    expect(again).toMatch(/^✅ Already rented/);
    expect(again).toContain(`Token: ${token}`);
    const count = await env.DB.prepare('SELECT count(*) AS n FROM endpoints WHERE account_id = ?1').bind(accountId).first<{ n: number }>();
    expect(count!.n).toBe(1);

    // The quote's Cancel after it: says what runs, not "nothing was held".
    const cancel = plain((await tap(chatId, quote, 'Cancel')).body.text);
    expect(cancel).toContain(`This quote was confirmed: notebook rental (${endpointId}) is active`);

    // The end of the rented time: the cron's tick stops it.
    await tendEndpoint(endpointsContext(env), endpointId!, endpoint.stopAt! + 1);
    expect(await getEndpoint(testDb(), endpointId!)).toMatchObject({ status: 'stopped', statusReason: 'rental_ended', desiredReplicas: 0 });
  });
});

describe('/endpoints', () => {
  it('Telegram: lists replicas with node, country, region and ready, traffic and cost; scales within min/max; a stale button acts on nothing; stops after a confirm', async () => {
    const node = await parisNode();
    const accountId = await newFundedAccount(100_000_000);
    const chatId = await linkTelegram(accountId);
    const endpoint = await apiEndpoint(accountId, 'llm', { min: 1, max: 2 });
    // A replica placed the way the gateway's first request places one, and ready as its tunnel reports.
    const woke = await wakeEndpoint(env, endpoint.id, Date.now());
    expect(woke.reason).toBe('placed');
    await recordReplicaState(
      env,
      node.nodeId,
      { type: 'replica_state', replicaId: woke.placed[0]!, state: 'ready', at: Date.now() },
      Date.now(),
    );
    // Traffic as the gateway counts and flushes it: 3 requests, first bytes after 30, 40 and 700 ms.
    const traffic = new TrafficCounters();
    for (const ttfb of [30, 40, 700]) traffic.record(endpoint.id, Date.now(), 'unknown', 200, ttfb);
    await traffic.flush(testDb(), Date.now() + 60_000);

    const first = await send(chatId, '/endpoints');
    const text = plain(first.body.text);
    expect(text).toContain(`llm — 1/1 ready`);
    expect(text).toMatch(new RegExp(`/e/${endpoint.id}/`));
    const nodeName = (await env.DB.prepare('SELECT name FROM nodes WHERE id = ?1').bind(node.nodeId).first<{ name: string }>())!.name;
    expect(text).toContain(`Replicas: ${nodeName} (FR, Europe (west)) ready`);
    expect(text).toContain('Traffic (last 5 min): 0.6 req/min, median 44 ms to first byte');
    expect(text).toContain('Replicas kept: min 1, max 2');
    expect(text).toContain('Cost so far: 0.000000 tokens');
    expect(labels(first)).toEqual(['+1 replica', '−1 replica', 'Stop']);

    const scaled = await tap(chatId, first, '+1 replica');
    expect(plain(scaled.body.text)).toMatch(/^✅ llm: keeps 2 replicas now/);
    expect(plain(scaled.body.text)).toContain('Replicas kept: min 2, max 2');
    // At its maximum: no +1 button any more.
    expect(labels(scaled)).toEqual(['−1 replica', 'Stop']);
    expect(await getEndpoint(testDb(), endpoint.id)).toMatchObject({ minReplicas: 2, maxReplicas: 2 });

    // The first screen's buttons are stale now: a press changes nothing and shows it as it is.
    const stale = await tap(chatId, first, '−1 replica');
    expect(plain(stale.body.text)).toMatch(/^⚠️ llm changed since this button was shown\n\nNothing was done\. Here it is now:/);
    expect(await getEndpoint(testDb(), endpoint.id)).toMatchObject({ minReplicas: 2 });

    const ask = await tap(chatId, scaled, 'Stop');
    expect(plain(ask.body.text)).toMatch(/^⚠️ Stop llm\?/);
    expect(labels(ask)).toEqual(['Yes, stop it', 'Keep it']);
    const stopped = await tap(chatId, ask, 'Yes, stop it');
    expect(plain(stopped.body.text)).toMatch(/^✅ llm stopped/);
    expect(await getEndpoint(testDb(), endpoint.id)).toMatchObject({ status: 'deleted' });
    const late = await tap(chatId, ask, 'Yes, stop it');
    expect(plain(late.body.text)).toMatch(/^⚠️ llm is stopped\n\nIt was stopped already/);
    expect(plain((await send(chatId, '/endpoints')).body.text)).toContain('You have no endpoints.');
  });

  it('an operator sees the replicas their node serves in /status', async () => {
    const node = await parisNode();
    const accountId = await newFundedAccount(100_000_000);
    const endpoint = await apiEndpoint(accountId, 'served-here', { min: 1, max: 1 });
    const woke = await wakeEndpoint(env, endpoint.id, Date.now());
    await recordReplicaState(
      env,
      node.nodeId,
      { type: 'replica_state', replicaId: woke.placed[0]!, state: 'ready', at: Date.now() },
      Date.now(),
    );
    const chatId = await linkTelegram(node.operator.accountId);
    const status = plain((await send(chatId, `/status ${node.nodeId}`)).body.text);
    expect(status).toMatch(/Endpoint replicas \(\d+\): /);
    expect(status).toMatch(/served-here · ready just now · 1 GPU at 1\.500000\/GPU-h · earned 0\.000000/);
  });

  it('Discord: the same list and buttons', async () => {
    const h = await discordHarness();
    await parisNode();
    const userId = snowflake();
    const accountId = await newFundedAccount(100_000_000);
    await linkDiscordUser(userId, accountId);
    const endpoint = await apiEndpoint(accountId, 'disc-llm', { min: 0, max: 3 });
    const other = await apiEndpoint(accountId, 'disc-two', { min: 1, max: 1 });

    type Message = {
      embeds: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
      components: { components: { custom_id?: string; label: string }[] }[];
      flags?: number;
    };
    const answer = async (body: Record<string, unknown>): Promise<Message> => {
      const res = await h.interact(body);
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: Message }).data;
    };
    const list = await answer(command(['endpoints'], {}, { userId }));
    expect(list.flags).toBe(64);
    expect(list.embeds[0]!.title).toBe('Your endpoints (2)');
    expect(list.embeds[0]!.description).toContain(`disc-llm — 0/0 ready\nhttp`);
    expect(list.embeds[0]!.description).toContain('Replicas: none (scaled to zero; the next request starts one)');
    const buttons = list.components.flatMap((r) => r.components);
    expect(buttons.map((b) => b.label)).toEqual(['Manage disc-two', 'Manage disc-llm']);
    const manage = await answer(buttonPress(buttons[1]!.custom_id!, { userId }));
    expect(manage.embeds[0]!.title).toBe('disc-llm');
    const controls = manage.components.flatMap((r) => r.components);
    expect(controls.map((b) => b.label)).toEqual(['+1 replica', 'Stop']);
    const up = await answer(buttonPress(controls[0]!.custom_id!, { userId }));
    expect(up.embeds[0]!.title).toBe('disc-llm: keeps 1 replica now');
    // Another person pressing the same button: not theirs, nothing happens.
    const stranger = snowflake();
    await linkDiscordUser(stranger, await newFundedAccount(0));
    const notTheirs = await answer(buttonPress(controls[0]!.custom_id!, { userId: stranger }));
    expect(notTheirs.embeds[0]!.title).toBe('Not found');
    expect(await getEndpoint(testDb(), endpoint.id)).toMatchObject({ minReplicas: 1 });
    expect(await getEndpoint(testDb(), other.id)).toMatchObject({ minReplicas: 1 });
  });
});
