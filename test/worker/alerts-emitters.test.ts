import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { alertsSettled } from './helpers/alert-sentinel.ts';
import { linkTelegram, say } from './helpers/operator.ts';
import { newChainWallet, runCron } from './helpers/solana.ts';
import { authed, devAccount, fetchChallenge, ownedNode } from './helpers/staking.ts';
import { eventually, sentTo } from './helpers/telegram.ts';

// The alerts that needed an emitter of their own: stake falling below a node's minimum (on the
// crossing only), hardware challenges left unanswered until they expired (at the epoch close),
// and a withdrawal paid on chain (the litesvm cluster behind SOLANA_RPC_URL). Each is driven
// through the feature's own routes or the bot, and watched in the operator's Telegram chat.

/** Alert lines of one kind in the chat (alerts arriving together share a message, one line each). */
const alertsStartingWith = async (chatId: number, mark: string) =>
  (await sentTo(chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((line) => line.startsWith(mark));

async function exactlyOne(chatId: number, mark: string): Promise<string> {
  // Every caller's emitter has emitted before this is called (a route, the cron); once the
  // sentinel is delivered, so is all of that (helpers/alert-sentinel.ts): one line, no more.
  await alertsSettled(chatId);
  const sent = await alertsStartingWith(chatId, mark);
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

describe('stake below the minimum', () => {
  it('alerts the subscribed operator once, when an unstake takes the stake under min × GPUs', async () => {
    const operator = await devAccount(1000);
    const chatId = await linkTelegram(operator.accountId);
    const node = await ownedNode(operator, { name: 'thin-1' }); // 2 GPUs: the minimum is 2 × 200 tokens
    expect(await say({ chatId }, '/alerts on')).toMatch(/^Alerts on for all your nodes/);
    expect((await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '500' })).status).toBe(201);

    // 500 → 450: still above the minimum, no alert.
    expect((await authed(operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '50' })).status).toBe(201);
    // 450 → 350 from the chat: the crossing.
    expect(await say({ chatId }, `/unstake ${node.nodeId} 100`)).toMatch(/100\.000000 tokens on \S+ stop earning/);
    // 350 → 340: already below, no second alert.
    expect((await authed(operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '10' })).status).toBe(201);

    const alert = await exactlyOne(chatId, '📉');
    expect(alert).toBe('📉 Stake on thin-1 is 350 tokens, below the minimum of 400.');
    const events = await env.DB.prepare(`SELECT event_id FROM alert_events WHERE kind = 'stake_low' AND node_id = ?`)
      .bind(node.nodeId)
      .all<{ event_id: string }>();
    expect(events.results).toHaveLength(1);
    expect(events.results[0]!.event_id).toMatch(new RegExp(`^stake_low:${node.nodeId}:tx_`));

    // Back above and down again is a new crossing, with its own event.
    expect((await authed(operator, 'POST', '/v1/staking/stake', { nodeId: node.nodeId, amount: '100' })).status).toBe(201); // 440
    expect((await authed(operator, 'POST', '/v1/staking/unstake', { nodeId: node.nodeId, amount: '41' })).status).toBe(201); // 399
    await eventually(async () => expect(await alertsStartingWith(chatId, '📉')).toHaveLength(2));
    expect((await alertsStartingWith(chatId, '📉'))[1]).toBe('📉 Stake on thin-1 is 399 tokens, below the minimum of 400.');
  });
});

describe('payouts', () => {
  it('a withdrawal paid on chain alerts the account with the amount and the transaction signature', async () => {
    const account = await devAccount(50);
    const chatId = await linkTelegram(account.accountId);
    expect(await say({ chatId }, '/alerts on')).toMatch(/plus payouts/);
    const destination = await newChainWallet({ tokenAccount: true });
    const res = await authed(
      account,
      'POST',
      '/v1/accounts/me/withdrawals',
      { amount: '7.25', destination },
      { 'Idempotency-Key': crypto.randomUUID() },
    );
    expect(res.status).toBe(201);
    const { payout } = (await res.json()) as { payout: { id: string } };

    // Plan, sign and send; then marked paid at `finalized`; the alert pump runs on the next tick.
    const paid = async () =>
      (await env.DB.prepare('SELECT status FROM payouts WHERE id = ?').bind(payout.id).first<{ status: string }>())!.status === 'paid';
    for (let i = 0; i < 5 && !(await paid()); i++) await runCron();
    expect(await paid()).toBe(true);
    await runCron();
    const { signature } = (await env.DB.prepare(
      'SELECT b.signature FROM payouts p JOIN payout_batches b ON b.id = p.batch_id WHERE p.id = ?',
    )
      .bind(payout.id)
      .first<{ signature: string }>())!;
    expect(signature).toMatch(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/);

    const alert = await exactlyOne(chatId, '💸');
    expect(alert).toMatch(new RegExp(`^💸 Payout of 7\\.25 tokens sent at \\d\\d:\\d\\d UTC, transaction ${signature}\\.$`));
  });
});

// Runs the cron two hours ahead, which moves the alert pumps' cursors there too: keep it last.
describe('expired hardware challenges', () => {
  it('a challenge left unanswered past its expiry fails at the epoch close and alerts the operator', async () => {
    const owner = await devAccount();
    const chatId = await linkTelegram(owner.accountId);
    const node = await ownedNode(owner, { name: 'sleepy-1' });
    await say({ chatId }, '/alerts on');
    const challenge = await fetchChallenge(node); // delivered, never answered
    expect(challenge).toBeDefined();

    // Two hours on: the challenge expired (TTL 1 h) and an epoch (1 h) has ended since, so the cron closes it.
    await runCron(Date.now() + 2 * 3600_000 + 60_000);
    const row = await env.DB.prepare('SELECT status, failure FROM challenges WHERE id = ?')
      .bind(challenge!.id)
      .first<{ status: string; failure: string }>();
    expect(row).toEqual({ status: 'failed', failure: 'no_answer' });

    const alert = await exactlyOne(chatId, '⚠️');
    expect(alert).toMatch(/^⚠️ sleepy-1 failed verification at \d\d:\d\d UTC: deadline passed\.$/);
    expect(
      await env.DB.prepare('SELECT kind FROM alert_events WHERE event_id = ?').bind(`verification_failed:${challenge!.id}`).first(),
    ).toEqual({ kind: 'verification_failed' });
  });
});
