import { describe, expect, it } from 'vitest';
import { APP_ID, autocompleteOf, buttonPress, command, discordHarness, linkDiscordUser, snowflake } from './helpers/discord.ts';
import { show, staker, type ProposalBody } from './helpers/governance.ts';
import type { RecordedRequest } from './setup/discord-api.ts';

// Governance in Discord, asserted on the HTTP requests the stand-in received: the proposal is
// posted to the configured channel with Yes / No / Abstain buttons, a button press votes for the
// presser's linked account and refreshes the live tally, and the outcome is announced there.

type Message = {
  embeds: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  components: { components: { custom_id?: string; label: string; disabled?: boolean }[] }[];
  message_reference?: { message_id: string };
  flags?: number;
};
const bodyOf = (r: RecordedRequest) => r.body as Message;
const field = (m: Message, name: string) => m.embeds[0]!.fields!.find((f) => f.name === name)?.value;

describe('discord: governance', () => {
  it('posts a new proposal with vote buttons, counts button votes, refreshes the tally, announces the outcome', async () => {
    const h = await discordHarness();
    const proposerId = snowflake();
    const voterId = snowflake();
    const proposer = await staker(1500);
    const voter = await staker(700);
    await linkDiscordUser(proposerId, proposer.accountId);
    await linkDiscordUser(voterId, voter.accountId);

    // /proposal create is slow: deferred publicly, completed with a follow-up.
    const create = command(
      ['proposal', 'create'],
      { kind: 'text', title: 'Fund GPU-hours for open models', description: 'Signal first.' },
      { userId: proposerId },
    );
    const deferred = (await (await h.interact(create)).json()) as { type: number; data: { flags: number } };
    expect(deferred).toEqual({ type: 5, data: { flags: 0 } });
    const [followUp] = await h.received((r) => r.path === `/api/v10/webhooks/${APP_ID}/${create.token}/messages/@original`);
    expect(followUp!.method).toBe('PATCH');
    const number = Number(/Proposal #(\d+) is open/.exec(bodyOf(followUp!).embeds[0]!.title!)![1]);

    const posts = await h.received((r) => r.method === 'POST' && r.path === `/api/v10/channels/${h.channelId}/messages`);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.authorization).toBe('Bot test-discord-bot-token');
    const post = bodyOf(posts[0]!);
    expect(post.embeds[0]!.title).toBe(`Proposal #${number}: Fund GPU-hours for open models`);
    expect(post.components[0]!.components.map((b) => [b.label, b.custom_id])).toEqual([
      ['Yes', `vote:${number}:yes`],
      ['No', `vote:${number}:no`],
      ['Abstain', `vote:${number}:abstain`],
    ]);

    // Open proposals are offered while typing /vote.
    const ac = (await (await h.interact(autocompleteOf(['vote'], 'proposal', 'GPU-hours'))).json()) as {
      data: { choices: { value: string }[] };
    };
    expect(ac.data.choices.map((c) => c.value)).toContain(String(number));

    // A button press by someone who has not linked a wallet: told to link, nothing counted.
    const stranger = buttonPress(`vote:${number}:no`, { userId: snowflake() });
    expect((await (await h.interact(stranger)).json()) as { type: number; data: { flags: number } }).toEqual({
      type: 5,
      data: { flags: 64 },
    });
    const [refusal] = await h.received((r) => r.path.includes(stranger.token));
    expect(JSON.stringify(refusal!.body)).toMatch(/Link your wallet first/);

    // The voter presses Yes: ephemeral confirmation, and the channel message shows the new tally.
    const press = buttonPress(`vote:${number}:yes`, { userId: voterId });
    await h.interact(press);
    const [confirmation] = await h.received((r) => r.path.includes(press.token));
    expect(JSON.stringify(confirmation!.body)).toMatch(/You voted yes on proposal #\d+ with 700\.000000 tokens/);
    const messageId = (
      await h.received((r) => r.method === 'PATCH' && r.path.startsWith(`/api/v10/channels/${h.channelId}/messages/`))
    )[0]!.path
      .split('/')
      .pop()!;
    const edits = await h.received((r) => r.method === 'PATCH' && r.path === `/api/v10/channels/${h.channelId}/messages/${messageId}`);
    expect(field(bodyOf(edits.at(-1)!), 'Yes')).toBe('700.000000');

    // A second press replaces the vote.
    await h.interact(buttonPress(`vote:${number}:abstain`, { userId: voterId }));
    const p = (await show({ id: String(number) } as ProposalBody)) as ProposalBody;
    expect(p.tally).toMatchObject({ yes: '0.000000', abstain: '700.000000', voters: 1 });

    // /vote by the proposer, then the cron closes it: message edited (buttons off) and outcome posted beside it.
    await h.interact(command(['vote'], { proposal: String(number), choice: 'yes' }, { userId: proposerId }));
    await h.cron(Date.parse(p.votingEndsAt));
    const finalEdit = (
      await h.received((r) => r.method === 'PATCH' && r.path === `/api/v10/channels/${h.channelId}/messages/${messageId}`)
    ).at(-1)!;
    expect(field(bodyOf(finalEdit), 'Status')).toMatch(/^Passed/);
    expect(bodyOf(finalEdit).components[0]!.components.every((b) => b.disabled)).toBe(true);
    const announcements = await h.received(
      (r) => r.method === 'POST' && r.path === `/api/v10/channels/${h.channelId}/messages` && Boolean(bodyOf(r).message_reference),
    );
    expect(announcements).toHaveLength(1);
    expect(bodyOf(announcements[0]!).message_reference!.message_id).toBe(messageId);
    expect(bodyOf(announcements[0]!).embeds[0]!.description).toMatch(new RegExp(`Proposal #${number} passed`));

    // The text proposal executes after the timelock; that is announced once too.
    const passed = (await show({ id: String(number) } as ProposalBody)) as ProposalBody;
    await h.cron(Date.parse(passed.executableAt!));
    await h.cron(Date.parse(passed.executableAt!) + 60_000);
    const outcomes = await h.received(
      (r) => r.method === 'POST' && r.path === `/api/v10/channels/${h.channelId}/messages` && Boolean(bodyOf(r).message_reference),
    );
    expect(outcomes).toHaveLength(2);
    expect(bodyOf(outcomes[1]!).embeds[0]!.description).toMatch(/was executed/);
  });
});
