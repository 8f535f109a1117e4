import { describe, expect, it } from 'vitest';
import { usableLinkTokenHash } from '../../workers/accounts/links.ts';
import { errorOf } from './helpers/agent.ts';
import { ADMIN_ID, APP_ID, autocompleteOf, command, discordHarness, linkDiscordUser, ping, snowflake } from './helpers/discord.ts';
import { staker, TOKEN } from './helpers/governance.ts';
import { testDb } from './helpers/ledger.ts';

// The interactions endpoint: signatures checked before anything else (good, tampered, wrong
// key, stale, replayed), PING, then commands, ephemeral personal replies, our own admin
// allowlist, deferred replies completed through the REST stand-in, autocomplete.

type Body = {
  type: number;
  data?: {
    flags?: number;
    content?: string;
    embeds?: { title?: string; description?: string }[];
    components?: { components: { url?: string; custom_id?: string }[] }[];
    choices?: { name: string; value: string }[];
  };
};

describe('discord: signatures and replays', () => {
  it('answers a correctly signed PING with PONG', async () => {
    const h = await discordHarness();
    const res = await h.interact(ping());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it('refuses a tampered body, another key, missing headers and a stale timestamp with 401', async () => {
    const h = await discordHarness();
    const body = JSON.stringify(ping());
    const signed = await h.sign(body);
    const tampered = new Request(signed, { body: body.replace('"type":1', '"type":2') });
    expect(await errorOf(await h.send(tampered))).toMatchObject({ status: 401, code: 'bad_signature' });

    const other = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    expect(await errorOf(await h.send(await h.sign(body, { keyPair: other })))).toMatchObject({ status: 401, code: 'bad_signature' });

    const bare = new Request('http://gridplane.test/discord/interactions', { method: 'POST', body });
    expect(await errorOf(await h.send(bare))).toMatchObject({ status: 401, code: 'bad_signature' });

    const stale = await h.sign(body, { timestamp: Date.now() - 5 * 60_000 - 2000 });
    expect(await errorOf(await h.send(stale))).toMatchObject({ status: 401, code: 'stale_request' });
    const future = await h.sign(body, { timestamp: Date.now() + 6 * 60_000 });
    expect(await errorOf(await h.send(future))).toMatchObject({ status: 401, code: 'stale_request' });
  });

  it('handles an interaction id once: a replayed delivery is refused and does nothing', async () => {
    const h = await discordHarness();
    const userId = snowflake();
    const request = await h.sign(JSON.stringify(command(['link'], {}, { userId })));
    const first = await h.send(request.clone());
    expect(first.status).toBe(200);
    const again = await h.send(request);
    expect(await errorOf(again)).toMatchObject({ status: 401, code: 'replayed_request' });
    const tokens = await testDb()
      .$client.prepare("SELECT COUNT(*) AS n FROM link_tokens WHERE platform = 'discord' AND platform_user_id = ?1")
      .bind(userId)
      .first<{ n: number }>();
    expect(tokens!.n).toBe(1);
  });
});

describe('discord: commands', () => {
  it('/link replies only to the caller with a working one-time link', async () => {
    const h = await discordHarness();
    const res = await h.interact(command(['link']));
    const body = (await res.json()) as Body;
    expect(body.type).toBe(4);
    expect(body.data!.flags).toBe(64);
    const url = new URL(body.data!.components![0]!.components[0]!.url!);
    expect(url.pathname).toBe('/link');
    expect(await usableLinkTokenHash(testDb(), url.searchParams.get('token')!, Date.now())).not.toBeNull();
  });

  it('/balance asks to link first, then shows the balance ephemerally', async () => {
    const h = await discordHarness();
    const userId = snowflake();
    const before = (await (await h.interact(command(['balance'], {}, { userId }))).json()) as Body;
    expect(before.data!.flags).toBe(64);
    expect(before.data!.embeds![0]!.description).toMatch(/Link your wallet first/);

    const s = await staker(0, 42);
    await linkDiscordUser(userId, s.accountId);
    const after = (await (await h.interact(command(['balance'], {}, { userId }))).json()) as Body;
    expect(after.data!.flags).toBe(64);
    expect(after.data!.embeds![0]!.description).toBe(`${(42 * TOKEN) / TOKEN}.000000 tokens available.`);
  });

  it('admin commands follow our allowlist, not the member permissions Discord reports', async () => {
    const h = await discordHarness();
    const outsider = command(['admin', 'governance-tick'], {}, { userId: snowflake() });
    const res = await h.interact(outsider);
    expect(((await res.json()) as Body).type).toBe(5); // deferred; completed below
    const [followUp] = await h.received((r) => r.path.includes(outsider.token));
    expect(followUp).toMatchObject({
      method: 'PATCH',
      path: `/api/v10/webhooks/${APP_ID}/${outsider.token}/messages/@original`,
      authorization: null,
    });
    expect(JSON.stringify(followUp!.body)).toMatch(/Only gridplane admins/);

    const admin = command(['admin', 'governance-tick'], {}, { userId: ADMIN_ID });
    await h.interact(admin);
    const [done] = await h.received((r) => r.path.includes(admin.token));
    expect(JSON.stringify(done!.body)).toMatch(/Governance tick/);
  });

  it('autocompletes GPU models', async () => {
    const h = await discordHarness();
    const res = await h.interact(autocompleteOf(['rent'], 'gpu', '409'));
    const body = (await res.json()) as Body;
    expect(body.type).toBe(8);
    expect(body.data!.choices!.map((c) => c.value)).toEqual(['RTX 4090']);
  });

  it('refuses an interaction when the bot is not configured', async () => {
    const h = await discordHarness({ DISCORD_PUBLIC_KEY: '' });
    expect(await errorOf(await h.interact(ping()))).toMatchObject({ status: 503, code: 'discord_not_configured' });
  });
});
