import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../workers/env.ts';
import worker from '../../workers/index.ts';
import { staker, type ProposalBody, type Staker } from './helpers/governance.ts';
import { linkTelegram } from './helpers/operator.ts';
import './helpers/solana.ts'; // the cron's settlement step signs with WebCrypto (see there)
import { botCalls, callbackUpdate, freshChatId, WEBHOOK_SECRET } from './helpers/telegram.ts';
import type { RecordedCall } from './setup/telegram-api.ts';

// Governance in a Telegram chat, asserted on the Bot API stand-in: proposals opened, closed and
// executed are posted to TELEGRAM_GOVERNANCE_CHAT_ID with Yes / No / Abstain buttons; a press
// votes for the presser's linked account (answered to the presser alone) and the tally is edited
// in. The Worker runs with an env of this test's own, so its chat is nobody else's.

type Keyboard = { text: string; callback_data?: string }[][];
const keyboardOf = (call: RecordedCall) =>
  ((call.body.reply_markup as { inline_keyboard?: Keyboard } | undefined)?.inline_keyboard ?? []).flat();

describe('telegram: governance announcements', () => {
  it('posts a proposal with vote buttons, counts presses by linked accounts, edits the tally, announces close and execution once', async () => {
    const chat = -freshChatId();
    const testEnv = { ...env, TELEGRAM_GOVERNANCE_CHAT_ID: String(chat) } as unknown as Env;
    const run = async (request: Request) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(request, testEnv, ctx);
      await waitOnExecutionContext(ctx); // the announcer runs in waitUntil
      return res;
    };
    const apiAs = (s: Staker, method: string, path: string, body?: unknown) =>
      run(
        new Request(`http://gridplane.test${path}`, {
          method,
          headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const press = async (data: string, userId: number, messageId: number) => {
      const update = callbackUpdate(data, { chatId: chat, userId, type: 'supergroup', messageId });
      const res = await run(
        new Request('https://gridplane.test/telegram/webhook', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': WEBHOOK_SECRET },
          body: JSON.stringify(update),
        }),
      );
      expect(res.status).toBe(200);
      const id = (update.callback_query as { id: string }).id;
      const [answer] = await botCalls({ method: 'answerCallbackQuery' }).then((calls) =>
        calls.filter((c) => c.body.callback_query_id === id),
      );
      return answer!.body as { text: string; show_alert: boolean };
    };
    const cron = async (scheduledTime: number) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime, cron: '* * * * *' }), testEnv, ctx);
      await waitOnExecutionContext(ctx);
    };
    const inChat = () => botCalls({ chatId: chat });

    const proposer = await staker(1500);
    const voter = await staker(700);
    const voterUser = await linkTelegram(voter.accountId);

    const res = await apiAs(proposer, 'POST', '/v1/governance/proposals', {
      kind: 'text',
      title: 'Fund GPU-hours for open models',
      description: 'Signal first.',
    });
    expect(res.status).toBe(201);
    const proposal = (await res.json()) as ProposalBody;
    const n = proposal.number;

    // Posted once, with the shared vote buttons as callback data of at most 64 bytes.
    const [post, ...others] = await inChat();
    expect(others).toEqual([]);
    expect(post!.method).toBe('sendMessage');
    expect(post!.body.parse_mode).toBe('HTML');
    expect(String(post!.body.text)).toContain(`<b>Proposal #${n}: Fund GPU-hours for open models</b>`);
    expect(keyboardOf(post!).map((b) => [b.text, b.callback_data])).toEqual([
      ['Yes', `vote:${n}:yes`],
      ['No', `vote:${n}:no`],
      ['Abstain', `vote:${n}:abstain`],
    ]);
    for (const b of keyboardOf(post!)) expect(new TextEncoder().encode(b.callback_data!).length).toBeLessThanOrEqual(64);
    const messageId = post!.seq; // the stand-in's message_id
    const row = await env.DB.prepare(`SELECT channel_id, message_id FROM proposal_posts WHERE proposal_id = ? AND platform = 'telegram'`)
      .bind(proposal.id)
      .first();
    expect(row).toEqual({ channel_id: String(chat), message_id: String(messageId) });

    // Someone without a linked wallet: told so, privately; nothing counted, nothing said in the chat.
    const refusal = await press(`vote:${n}:no`, freshChatId(), messageId);
    expect(refusal.show_alert).toBe(true);
    expect(refusal.text).toMatch(/Link your wallet first/);
    expect(await inChat()).toHaveLength(1);

    // The voter presses Yes: the answer goes to the voter alone, the message shows the new tally.
    const yes = await press(`vote:${n}:yes`, voterUser, messageId);
    expect(yes).toMatchObject({
      show_alert: true,
      text: `Vote recorded: You voted yes on proposal #${n} with 700.000000 tokens of voting power.`,
    });
    let edits = (await inChat()).filter((c) => c.method === 'editMessageText');
    expect(edits).toHaveLength(1);
    expect(edits[0]!.body.message_id).toBe(messageId);
    expect(String(edits[0]!.body.text)).toContain('<b>Yes:</b> 700.000000');
    expect(keyboardOf(edits[0]!).map((b) => b.text)).toEqual(['Yes', 'No', 'Abstain']);

    // Changing the vote by button, then the proposer's vote over the API: both refresh the tally.
    expect((await press(`vote:${n}:abstain`, voterUser, messageId)).text).toMatch(/^Vote changed: You voted abstain/);
    expect((await apiAs(proposer, 'POST', `/v1/governance/proposals/${n}/votes`, { choice: 'yes' })).ok).toBe(true);
    edits = (await inChat()).filter((c) => c.method === 'editMessageText');
    expect(edits).toHaveLength(3);
    expect(String(edits[2]!.body.text)).toContain('<b>Yes:</b> 1500.000000');
    expect(String(edits[2]!.body.text)).toContain('<b>Abstain:</b> 700.000000');

    // Voting ends: the message loses its buttons and the outcome is posted as a reply to it.
    await cron(Date.parse(proposal.votingEndsAt));
    const closed = (await inChat()).filter((c) => c.method === 'editMessageText').at(-1)!;
    expect(String(closed.body.text)).toMatch(/<b>Status:<\/b> Passed/);
    expect(closed.body.reply_markup).toEqual({ inline_keyboard: [] });
    let outcomes = (await inChat()).filter((c) => c.method === 'sendMessage' && c.body.reply_parameters);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.body.reply_parameters).toMatchObject({ message_id: messageId });
    expect(String(outcomes[0]!.body.text)).toContain(`Proposal #${n} passed.`);

    // A press after the close changes nothing.
    expect((await press(`vote:${n}:no`, voterUser, messageId)).text).toMatch(/closed|not open|ended/i);

    // Executed after the timelock: announced once, however often the cron runs.
    const passed = (await (await apiAs(proposer, 'GET', `/v1/governance/proposals/${proposal.id}`)).json()) as ProposalBody;
    await cron(Date.parse(passed.executableAt!));
    await cron(Date.parse(passed.executableAt!) + 60_000);
    outcomes = (await inChat()).filter((c) => c.method === 'sendMessage' && c.body.reply_parameters);
    expect(outcomes).toHaveLength(2);
    expect(String(outcomes[1]!.body.text)).toContain(`Proposal #${n} was executed.`);
  });
});
