import { describe, expect, it } from 'vitest';
import { clockTime } from '../../workers/lib/human-time.ts';
import { heartbeat, registeredAgent } from './helpers/agent.ts';
import { cron, plain, screens, send } from './helpers/conversation.ts';
import { linkedOperator } from './helpers/operator.ts';
import { eventually } from './helpers/telegram.ts';

// An operator's conversation, from /alerts to the offline and back-online alerts: commands posted
// to the webhook as Telegram sends them, the node driven by its signed heartbeats and the minute
// cron, and at each step the messages the operator's chat got.

describe('an operator from /alerts to the offline and back-online alerts (Telegram)', () => {
  it('follows one node by name, hears when it stopped and when it came back, and stops following', async () => {
    const op = await linkedOperator();
    const rig = await registeredAgent({ owner: op.wallet, name: 'ada-rig' });
    await registeredAgent({ owner: op.wallet, name: 'spare' });
    const lastHeartbeat = Date.now(); // the registration is the node's last sign of life

    expect(plain((await send(op.chatId, '/alerts')).body.text)).toMatch(/^Alerts for nothing yet\.\nMuted: none\. Quiet hours: off\.\n\n/);
    expect(plain((await send(op.chatId, '/alerts on ada-rig')).body.text)).toBe('Alerts on for ada-rig.');
    expect(plain((await send(op.chatId, '/alerts on not-mine')).body.text)).toBe(
      'None of your nodes is called not-mine. You can follow the nodes your linked wallet owns.',
    );
    expect(plain((await send(op.chatId, '/alerts')).body.text)).toMatch(/^Alerts for ada-rig\.\n/);
    expect(plain((await send(op.chatId, '/alerts mute hot')).body.text)).toBe('Muted: hot.');
    const answered = (await screens(op.chatId)).length;

    // The minute cron ten minutes on finds both nodes silent; the chat hears about the one it follows,
    // with the time the node stopped, not the time the sweep noticed.
    await cron(Date.now() + 10 * 60_000);
    const offline = await eventually(async () => {
      const shown = await screens(op.chatId);
      expect(shown).toHaveLength(answered + 1);
      return plain(shown.at(-1)!.body.text);
    });
    expect([
      `🔴 ada-rig went offline at ${clockTime(lastHeartbeat)}.`,
      `🔴 ada-rig went offline at ${clockTime(lastHeartbeat + 60_000)}.`,
    ]).toContain(offline);

    // The node's agent comes back: a signed heartbeat, then the cron turns the transition into an alert.
    expect((await rig.send('POST', `/v1/nodes/${rig.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    const back = Date.now();
    await cron(Date.now());
    const online = await eventually(async () => {
      const shown = await screens(op.chatId);
      expect(shown).toHaveLength(answered + 2);
      return plain(shown.at(-1)!.body.text);
    });
    expect([`🟢 ada-rig is back online (${clockTime(back)}).`, `🟢 ada-rig is back online (${clockTime(back + 60_000)}).`]).toContain(
      online,
    );

    expect(plain((await send(op.chatId, '/alerts off ada-rig')).body.text)).toBe('Alerts off for ada-rig.');
    expect(plain((await send(op.chatId, '/alerts')).body.text)).toMatch(/^Alerts for nothing yet\.\nMuted: hot\./);
    // spare went offline too, unfollowed: no message ever named it.
    for (const screen of await screens(op.chatId)) expect(String(screen.body.text)).not.toMatch(/spare/);
  });
});
