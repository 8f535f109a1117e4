import { Composer } from 'grammy';
import type { AlertKind, ChatPrefs } from '../../../workers/alerts/alert-event.ts';
import { isValidTimeZone, parseQuietHours } from '../../../workers/alerts/delivery-policy.ts';
import { ALL_NODES, withKindMuted } from '../../../workers/alerts/subscriptions.service.ts';
import { chatIdOf, userIdOf, type TelegramContext } from '../context.ts';

/** The words operators type for each alert kind. */
export const KIND_WORDS: Record<string, AlertKind> = {
  offline: 'node_offline',
  online: 'node_online',
  hot: 'gpu_hot',
  verification: 'verification_failed',
  job: 'job_failed',
  slash: 'slashed',
  payout: 'reward_paid',
  refund: 'payout_refunded',
  stake: 'stake_low',
  suspended: 'node_suspended',
};
const WORD_OF = Object.fromEntries(Object.entries(KIND_WORDS).map(([w, k]) => [k, w])) as Record<AlertKind, string>;

const USAGE = [
  '/alerts on — all your nodes (or /alerts on <node>)',
  '/alerts off — stop (or /alerts off <node>)',
  `/alerts mute <kind> · /alerts unmute <kind> — kinds: ${Object.keys(KIND_WORDS).join(', ')}`,
  '/alerts quiet 22:00-07:00 Europe/Berlin · /alerts quiet off',
].join('\n');

const fmt = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

/** /alerts: operators choose what they hear about, per node or for all their nodes, and when. */
export const alertsComposer = new Composer<TelegramContext>();

alertsComposer.command('alerts', async (ctx) => {
  const { ops } = ctx.deps;
  const chatId = chatIdOf(ctx);
  const [verb = '', ...rest] = ctx.match.trim().split(/\s+/).filter(Boolean);
  const arg = rest.join(' ');
  const now = Date.now();

  if (verb === '') {
    const { subscriptions: subs, prefs } = await ops.alerts.settings(chatId);
    const following =
      subs.length === 0 ? 'nothing yet' : subs.map((s) => (s.scope === ALL_NODES ? 'all your nodes' : (s.nodeName ?? s.scope))).join(', ');
    const muted = prefs.mutedKinds.length ? prefs.mutedKinds.map((k) => WORD_OF[k]).join(', ') : 'none';
    const quiet =
      prefs.quietStartMin !== null && prefs.quietEndMin !== null
        ? `${fmt(prefs.quietStartMin)}–${fmt(prefs.quietEndMin)} ${prefs.timeZone}`
        : 'off';
    await ctx.reply(`Alerts for ${following}.\nMuted: ${muted}. Quiet hours: ${quiet}.\n\n${USAGE}`);
    return;
  }

  if (verb === 'on' || verb === 'off') {
    const account = await ops.linkedAccount('telegram', userIdOf(ctx));
    if (!account) {
      await ctx.reply('Link your wallet first (/link): alerts follow the nodes your wallet owns.');
      return;
    }
    if (verb === 'off') {
      const { found, node, removed } = await ops.alerts.unfollow(chatId, account, arg || null);
      if (!found) {
        await ctx.reply(`None of your nodes is called ${arg}.`);
        return;
      }
      await ctx.reply(removed ? `Alerts off${node ? ` for ${node.name}` : ''}.` : 'You had no alerts on.');
      return;
    }
    if (arg) {
      const { node } = await ops.alerts.follow(chatId, account, arg, now);
      if (!node) {
        await ctx.reply(`None of your nodes is called ${arg}. You can follow the nodes your linked wallet owns.`);
        return;
      }
      await ctx.reply(`Alerts on for ${node.name}.`);
      return;
    }
    const { ownedCount } = await ops.alerts.follow(chatId, account, null, now);
    await ctx.reply(`Alerts on for all your nodes (${ownedCount} now, and any you add), plus payouts and slashes of your account.`);
    return;
  }

  if (verb === 'mute' || verb === 'unmute') {
    const kind = KIND_WORDS[arg.toLowerCase()];
    if (!kind) {
      await ctx.reply(`Kinds: ${Object.keys(KIND_WORDS).join(', ')}.`);
      return;
    }
    const prefs = withKindMuted(await ops.alerts.prefs(chatId), kind, verb === 'mute');
    await applyPrefs(ctx, chatId, prefs, now);
    await ctx.reply(verb === 'mute' ? `Muted: ${arg.toLowerCase()}.` : `Unmuted: ${arg.toLowerCase()}.`);
    return;
  }

  if (verb === 'quiet') {
    const prefs = await ops.alerts.prefs(chatId);
    if (arg === 'off') {
      await applyPrefs(ctx, chatId, { ...prefs, quietStartMin: null, quietEndMin: null }, now);
      await ctx.reply('Quiet hours off.');
      return;
    }
    const [range = '', zone = prefs.timeZone] = rest;
    const hours = parseQuietHours(range);
    if (!hours || !isValidTimeZone(zone)) {
      await ctx.reply('Say it like: /alerts quiet 22:00-07:00 Europe/Berlin (the time zone is optional once set).');
      return;
    }
    await applyPrefs(ctx, chatId, { ...prefs, quietStartMin: hours.startMin, quietEndMin: hours.endMin, timeZone: zone }, now);
    await ctx.reply(`Quiet hours ${fmt(hours.startMin)}–${fmt(hours.endMin)} ${zone}: alerts wait and arrive together when they end.`);
    return;
  }

  await ctx.reply(USAGE);
});

/** Saved, and the chat's delivery object told at once, so waiting alerts follow too. */
async function applyPrefs(ctx: TelegramContext, chatId: string, prefs: ChatPrefs, now: number): Promise<void> {
  await ctx.deps.ops.alerts.setPrefs(chatId, prefs, now);
}
