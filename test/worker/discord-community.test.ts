import { describe, expect, it } from 'vitest';
import { COMMUNITY_TREASURY } from '../../workers/governance/community-treasury.ts';
import { buttonPress, command, discordHarness, linkDiscordUser, snowflake } from './helpers/discord.ts';
import { fundCommunityTreasury, show, staker, TOKEN, type ProposalBody } from './helpers/governance.ts';
import { balanceOf, newFundedAccount } from './helpers/ledger.ts';
import type { RecordedRequest } from './setup/discord-api.ts';

// A Discord community from a proposal to its executed outcome, as a conversation: interactions
// signed and sent as Discord sends them, and at each step what the members see — the answer to
// the one who acted (ephemeral or not) and the governance channel's messages, asserted on what
// the Discord API stand-in received. The grant moves tokens at the end.

type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };
type Message = {
  embeds: Embed[];
  components?: { components: { custom_id?: string; label: string; disabled?: boolean }[] }[];
  message_reference?: { message_id: string };
  flags?: number;
};
const bodyOf = (r: RecordedRequest) => r.body as Message;
const field = (m: Message, name: string) => m.embeds[0]!.fields?.find((f) => f.name === name)?.value;
const buttons = (m: Message) => (m.components ?? []).flatMap((row) => row.components).map((b) => `${b.label}${b.disabled ? ' (off)' : ''}`);
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d/;
const DATE = /^\d{1,2} \w{3} \d\d:\d\d UTC$/;

describe('discord: a community from a proposal to its executed outcome', () => {
  it('proposes a grant, votes with the buttons, sees it pass, and sees it paid', async () => {
    const h = await discordHarness();
    const [alice, bob, carol] = [snowflake(), snowflake(), snowflake()];
    const proposer = await staker(1500);
    const member = await staker(900);
    await linkDiscordUser(alice, proposer.accountId);
    await linkDiscordUser(bob, member.accountId);
    await fundCommunityTreasury(100);
    const project = await newFundedAccount(0);
    const channelPosts = () => h.received((r) => r.method === 'POST' && r.path === `/api/v10/channels/${h.channelId}/messages`);
    const answerTo = async (interaction: { token: string }) =>
      bodyOf((await h.received((r) => r.path.includes(interaction.token))).at(-1)!);

    // Alice opens a grant: her answer says until when voting runs, in words.
    const create = command(
      ['proposal', 'create'],
      { kind: 'grant', title: 'Docs sprint for the edge agent', description: 'Two writers, one week.', recipient: project, amount: '25' },
      { userId: alice },
    );
    await h.interact(create);
    const created = await answerTo(create);
    expect(created.embeds[0]!.title).toMatch(/^Proposal #\d+ is open$/);
    const number = Number(/#(\d+)/.exec(created.embeds[0]!.title!)![1]);
    expect(created.embeds[0]!.description).toMatch(
      /^"Docs sprint for the edge agent" is open for votes until (\d{1,2} \w{3} )?\d\d:\d\d UTC \(in \d+ (h|days?)\)\. It was posted to the governance channel\.$/,
    );

    // The channel sees the proposal, what it does, when voting ends, and the buttons.
    const [post] = await channelPosts();
    const message = bodyOf(post!);
    expect(message.embeds[0]!.title).toBe(`Proposal #${number}: Docs sprint for the edge agent`);
    expect(message.embeds[0]!.description).toBe(
      `Grant 25.000000 tokens from the community treasury to ${project}.\n\nTwo writers, one week.`,
    );
    expect(field(message, 'Status')).toBe('Voting open');
    expect(field(message, 'Voting ends')).toMatch(DATE);
    expect(buttons(message)).toEqual(['Yes', 'No', 'Abstain']);

    // Bob presses Yes: he alone is told; the channel's tally moves.
    const yes = buttonPress(`vote:${number}:yes`, { userId: bob });
    await h.interact(yes);
    const told = await answerTo(yes);
    expect(told.embeds[0]!.title).toBe('Vote recorded');
    expect(told.embeds[0]!.description).toBe(
      `You voted yes on proposal #${number} with 900.000000 tokens of voting power.\n\nYou can change your vote until voting closes.`,
    );
    const edits = () => h.received((r) => r.method === 'PATCH' && r.path.startsWith(`/api/v10/channels/${h.channelId}/messages/`));
    expect(field(bodyOf((await edits()).at(-1)!), 'Yes')).toBe('900.000000');

    // Carol has not linked a wallet: the press tells her how, and counts nothing.
    const stranger = buttonPress(`vote:${number}:no`, { userId: carol });
    await h.interact(stranger);
    expect((await answerTo(stranger)).embeds[0]!.description).toMatch(/^Link your wallet first/);

    // Alice votes by command; voting ends; the channel sees it passed, the buttons off, and when it pays.
    await h.interact(command(['vote'], { proposal: String(number), choice: 'yes' }, { userId: alice }));
    const open = (await show({ id: String(number) } as ProposalBody)) as ProposalBody;
    await h.cron(Date.parse(open.votingEndsAt));
    const closed = bodyOf((await edits()).at(-1)!);
    expect(field(closed, 'Status')).toBe('Passed — waiting for the timelock (passed)');
    expect(field(closed, 'Voting ended')).toMatch(DATE);
    expect(field(closed, 'Executes after')).toMatch(DATE);
    expect(buttons(closed)).toEqual(['Yes (off)', 'No (off)', 'Abstain (off)']);
    let replies = (await channelPosts()).filter((r) => bodyOf(r).message_reference);
    expect(replies).toHaveLength(1);
    expect(bodyOf(replies[0]!).embeds[0]!.description).toMatch(
      new RegExp(`^Proposal #${number} passed\\. It executes after the timelock, at \\d{1,2} \\w{3} \\d\\d:\\d\\d UTC\\.$`),
    );

    // A stale vote button after the close: Bob is told voting is over; the tally stays.
    const late = buttonPress(`vote:${number}:no`, { userId: bob });
    await h.interact(late);
    const lateAnswer = await answerTo(late);
    expect(lateAnswer.embeds[0]!.title).toBe('That did not work');
    expect(lateAnswer.embeds[0]!.description).toMatch(/clos|ended|not open/i);
    expect(field(bodyOf((await edits()).at(-1)!), 'No')).toBe('0.000000');

    // After the timelock the grant is paid from the community treasury, and the channel is told once.
    const treasury = await balanceOf(COMMUNITY_TREASURY);
    const passed = (await show({ id: String(number) } as ProposalBody)) as ProposalBody;
    await h.cron(Date.parse(passed.executableAt!));
    await h.cron(Date.parse(passed.executableAt!) + 60_000);
    replies = (await channelPosts()).filter((r) => bodyOf(r).message_reference);
    expect(replies).toHaveLength(2);
    expect(bodyOf(replies[1]!).embeds[0]!.description).toBe(
      `Proposal #${number} was executed. Grant 25.000000 tokens from the community treasury to ${project}.`,
    );
    expect(field(bodyOf((await edits()).at(-1)!), 'Status')).toBe('Executed (passed)');
    expect(await balanceOf(project)).toBe(25 * TOKEN);
    expect(await balanceOf(COMMUNITY_TREASURY)).toBe(treasury - 25 * TOKEN);

    // Nothing anyone read carried a raw ISO time.
    for (const r of await h.received()) expect(JSON.stringify(r.body ?? {})).not.toMatch(ISO);
  });
});
