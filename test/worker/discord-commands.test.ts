import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, heartbeat } from './helpers/agent.ts';
import { APP_ID, buttonPress, command, discordHarness, linkDiscordUser, snowflake, type DiscordHarness } from './helpers/discord.ts';
import { sendEvent } from './helpers/jobs.ts';
import { chainWorld } from './helpers/solana.ts';
import { devAccount, ownedNode, verifyNode } from './helpers/staking.ts';
import type { RecordedRequest } from './setup/discord-api.ts';

// The shared commands in Discord with real data made through the domain: a node registered by a
// signed agent and verified through the challenge routes, accounts funded by the faucet, stake
// bonded by /stake itself. Quick commands answer inline; slow ones are deferred and completed by
// a PATCH of @original that the REST stand-in received. Personal replies carry the ephemeral flag.

type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };
type Message = { embeds: Embed[]; components: { components: { custom_id?: string; label: string }[] }[]; flags?: number };
type Inline = { type: number; data: Message };
const EPHEMERAL = 64;

const inline = async (h: DiscordHarness, body: Record<string, unknown>): Promise<Inline> => {
  const res = await h.interact(body);
  expect(res.status).toBe(200);
  return (await res.json()) as Inline;
};

/** Sends a slow interaction: checks the deferral, then returns the one follow-up the stand-in got. */
async function deferred(h: DiscordHarness, body: { token: string } & Record<string, unknown>, ephemeral: boolean): Promise<Message> {
  const res = await h.interact(body);
  expect(await res.json()).toEqual({ type: 5, data: { flags: ephemeral ? EPHEMERAL : 0 } });
  const calls = await h.received((r: RecordedRequest) => r.path.includes(body.token));
  expect(calls.map((c) => [c.method, c.path, c.authorization])).toEqual([
    ['PATCH', `/api/v10/webhooks/${APP_ID}/${body.token}/messages/@original`, null],
  ]);
  return calls[0]!.body as Message;
}

const field = (m: Message, name: string) => m.embeds[0]!.fields?.find((f) => f.name === name)?.value;

describe('discord: commands on real data', () => {
  it('/stake, /nodes, /status, /rent with its confirm button, /jobs, /unstake and /rewards', async () => {
    const h = await discordHarness();
    const operatorId = snowflake();
    const renterId = snowflake();
    const operator = await devAccount(1000);
    const renter = await devAccount(100);
    await linkDiscordUser(operatorId, operator.accountId);
    await linkDiscordUser(renterId, renter.accountId);
    const node = await ownedNode(operator, {
      name: 'disc-paris-1',
      location: { lat: 48.86, lon: 2.35, country: 'FR' },
      pricePerGpuHour: '1.500000',
    });
    await verifyNode(node);

    // /stake with an amount bonds (slow, personal); the node becomes eligible at 200 × 2 GPUs.
    const stake = await deferred(h, command(['stake'], { node: node.nodeId, amount: '450' }, { userId: operatorId }), true);
    expect(stake.embeds[0]).toMatchObject({ title: 'Staked', description: '450.000000 tokens bonded on disc-paris-1.' });
    const view = (await (await api(`/v1/nodes/${node.nodeId}`)).json()) as { stake: string; eligible: boolean };
    expect(view).toMatchObject({ stake: '450.000000', eligible: true });
    const mine = await deferred(h, command(['stake'], {}, { userId: operatorId }), true);
    expect(mine.embeds[0]!.description).toBe(`450.000000 on disc-paris-1 (${node.nodeId.slice(0, 8)}…)`);

    // Read-only commands answer inline and publicly.
    const nodes = await inline(h, command(['nodes']));
    expect(nodes.type).toBe(4);
    expect(nodes.data.flags).toBeUndefined();
    expect(nodes.data.embeds[0]!.description).toBe('disc-paris-1 · FR · 2× RTX 4090 · 1.500000/GPU-h');
    const status = await inline(h, command(['status'], { node: node.nodeId }));
    expect(status.data.flags).toBeUndefined();
    expect(status.data.embeds[0]!.title).toBe('disc-paris-1 — online');
    expect(field(status.data, 'Price')).toBe('1.500000 per GPU-hour');

    // /rent: a quote with Confirm, only for the renter.
    const quote = await deferred(
      h,
      command(['rent'], { gpu: 'RTX 4090', count: 1, hours: 1, region: 'eu-west' }, { userId: renterId }),
      true,
    );
    expect(quote.embeds[0]!.title).toBe('1× RTX 4090 for 1 h');
    expect(quote.embeds[0]!.description).toMatch(/^Best offer: 1\.500000 per GPU-hour/);
    const [confirm, cancel] = quote.components[0]!.components;
    expect([confirm!.label, cancel!.label]).toEqual(['Confirm', 'Cancel']);
    expect(new TextEncoder().encode(confirm!.custom_id!).length).toBeLessThanOrEqual(64);

    // Pressing Confirm places the job (deferred, ephemeral); a second press places nothing new.
    const rented = await deferred(h, buttonPress(confirm!.custom_id!, { userId: renterId }), true);
    expect(rented.embeds[0]!.title).toBe('Rented');
    const jobId = /job (job_[0-9a-f]{32})/.exec(rented.embeds[0]!.description!)![1]!;
    expect(field(rented, 'Node')).toBe(node.nodeId);
    expect(field(rented, 'Held in escrow')).toBe('1.500000 tokens');
    const again = await deferred(h, buttonPress(confirm!.custom_id!, { userId: renterId }), true);
    expect(again.embeds[0]!.title).toBe('Already rented');
    expect(again.embeds[0]!.description).toContain(jobId);
    const job = await env.DB.prepare('SELECT account_id, node_id FROM jobs WHERE id = ?')
      .bind(jobId)
      .first<{ account_id: string; node_id: string }>();
    expect(job).toEqual({ account_id: renter.accountId, node_id: node.nodeId });
    const jobsOfRenter = await env.DB.prepare('SELECT count(*) AS n FROM jobs WHERE account_id = ?')
      .bind(renter.accountId)
      .first<{ n: number }>();
    expect(jobsOfRenter!.n).toBe(1);

    // The node runs it (signed agent events), so the epoch has served work to reward.
    await node.send('POST', `/v1/nodes/${node.nodeId}/heartbeat`, heartbeat());
    for (const event of [
      { kind: 'accepted' },
      { kind: 'started' },
      { kind: 'finished', exitCode: 0, reason: 'exited', receipt: { gpuSeconds: 600, runSeconds: 600 } },
    ]) {
      expect((await sendEvent(node, jobId, event)).status).toBe(200);
    }

    // /jobs: inline, ephemeral, the renter's job only.
    const jobs = await inline(h, command(['jobs'], {}, { userId: renterId }));
    expect(jobs.type).toBe(4);
    expect(jobs.data.flags).toBe(EPHEMERAL);
    expect(jobs.data.embeds[0]!.description).toMatch(new RegExp(`^${jobId} · succeeded · 1 GPU · `));
    expect((await inline(h, command(['jobs'], {}, { userId: operatorId }))).data.embeds[0]!.description).toBe('No jobs yet. Try /rent.');

    // /unstake: deferred and ephemeral; 400 stays bonded, so the node stays eligible.
    const unbond = await deferred(h, command(['unstake'], { node: node.nodeId, amount: '50' }, { userId: operatorId }), true);
    expect(unbond.embeds[0]!.title).toBe('Unbonding');
    expect(unbond.embeds[0]!.description).toMatch(
      /^50\.000000 tokens on disc-paris-1 stop earning and voting now and are released on (\d{1,2} \w{3} )?\d\d:\d\d UTC \(in \d+ (min|h|days?)\)\.$/,
    );
    expect((await (await api(`/v1/nodes/${node.nodeId}`)).json()) as object).toMatchObject({ stake: '400.000000', eligible: true });

    // /rewards: ephemeral; empty until an epoch closes, then the operator's share of it.
    const none = await inline(h, command(['rewards'], {}, { userId: operatorId }));
    expect(none.data.flags).toBe(EPHEMERAL);
    expect(none.data.embeds[0]!.description).toBe('No rewards yet.');
    await h.cron(Date.now() + 3600_000 + 60_000); // the epoch holding now has ended: the cron closes it
    const shares = await env.DB.prepare('SELECT epoch, SUM(amount) AS amount FROM reward_shares WHERE account_id = ? GROUP BY epoch')
      .bind(operator.accountId)
      .all<{ epoch: number; amount: number }>();
    expect(shares.results.length).toBeGreaterThan(0);
    const rewards = await inline(h, command(['rewards'], {}, { userId: operatorId }));
    expect(rewards.data.flags).toBe(EPHEMERAL);
    const { epoch, amount } = shares.results[0]!;
    expect(rewards.data.embeds[0]!.description).toBe(`epoch ${epoch}: ${(amount / 1e6).toFixed(6)}`);
  });
});

describe('discord: /deposit', () => {
  it('answers the linked caller alone with the Solana Pay request stored for their account', async () => {
    const world = await chainWorld();
    const h = await discordHarness();
    const userId = snowflake();
    const account = await devAccount();
    await linkDiscordUser(userId, account.accountId);
    const res = await inline(h, command(['deposit'], { amount: '3' }, { userId }));
    expect(res.type).toBe(4);
    expect(res.data.flags).toBe(EPHEMERAL);
    const embed = res.data.embeds[0]!;
    expect(embed.title).toBe('Deposit 3.000000 tokens');
    const reference = field(res.data, 'Reference')!;
    expect(field(res.data, 'Token account')).toBe(world.treasuryTokenAccount);
    expect(embed.description).toContain(`solana:${world.treasury}?amount=3&spl-token=${world.mint}&reference=${reference}&`);
    const stored = await env.DB.prepare('SELECT account_id, expected_amount FROM deposit_references WHERE reference = ?')
      .bind(reference)
      .first();
    expect(stored).toEqual({ account_id: account.accountId, expected_amount: 3_000_000 });
    // The QR code as the embed's image, and a link button to the request's page (it opens the wallet).
    expect((embed as { image?: { url: string } }).image?.url).toMatch(new RegExp(`/pay/${reference}/qr\\.png$`));
    expect(JSON.stringify(res.data.components)).toMatch(new RegExp(`"label":"Open in wallet","url":"[^"]+/pay/${reference}"`));
  });

  it('says so plainly when settlement is not configured, and stores nothing', async () => {
    const h = await discordHarness({ SOLANA_RPC_URL: '' });
    const userId = snowflake();
    const account = await devAccount();
    await linkDiscordUser(userId, account.accountId);
    const res = await inline(h, command(['deposit'], {}, { userId }));
    expect(res.data.flags).toBe(EPHEMERAL);
    expect(res.data.embeds[0]!.description).toBe('Deposits are not available on this deployment: on-chain settlement is not configured.');
    const refs = await env.DB.prepare('SELECT count(*) AS n FROM deposit_references WHERE account_id = ?')
      .bind(account.accountId)
      .first<{ n: number }>();
    expect(refs!.n).toBe(0);
  });
});
