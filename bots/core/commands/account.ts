import { formatAmount } from '../../../workers/lib/amounts.ts';
import { untilTime } from '../../../workers/lib/human-time.ts';
import { BotError, type ActionSpec, type CommandSpec } from '../command.ts';
import { action, privateReply } from '../reply.ts';

// /link: a one-time link to the wallet page, and a button to confirm the link in chat once the
// wallet has signed (workers/accounts/links.ts): the link takes effect only on this person's
// Confirm, after the bot has shown which wallet signed.

export const linkCommand: CommandSpec = {
  name: 'link',
  description: 'Link this chat account to your Solana wallet',
  personal: true,
  async run(ctx) {
    const { token, expiresAt, ref } = await ctx.ops.createLinkToken(ctx.platform, ctx.user.id, {
      nowMs: ctx.nowMs,
      userName: ctx.user.name,
    });
    const url = `${ctx.origin}/link?token=${encodeURIComponent(token)}`;
    const already = await ctx.linkedAccount();
    return privateReply({
      title: 'Link your wallet',
      blocks: [
        'Open the link and sign in with your Solana wallet, then come back and press Confirm link: this chat account is linked to the wallet only when you confirm it here, so you can rent, stake and vote from here.',
        already
          ? 'You are already linked; confirming another wallet moves the link to it.'
          : `The link works once, ${untilTime(expiresAt, ctx.nowMs)}.`,
      ],
      buttons: [
        { kind: 'link', label: 'Sign in with Solana', url },
        { kind: 'action', label: 'Confirm link', action: action('link', 'check', ref), style: 'primary' },
      ],
    });
  },
};

/** `link:new`, `link:check|ok|no:<ref>`: start a link, show the wallet that signed, then link it or drop it. Only the token's own chat user matches. */
export const linkAction: ActionSpec = {
  name: 'link',
  personal: true,
  async run(ctx, [verb = '', ref = '']) {
    // `link:new`: the "Link my wallet" button under every "link first" answer starts a link here.
    if (verb === 'new') return { reply: await linkCommand.run!(ctx) };
    const pending = await ctx.ops.pendingLink(ctx.platform, ctx.user.id, ref, ctx.nowMs);
    if (pending.state === 'unknown')
      throw new BotError('invalid_action', 'This button is not for you, or its link no longer exists. Run /link for a new one.');
    if (pending.state === 'confirmed')
      return {
        reply: privateReply({
          title: 'Already linked',
          blocks: [`This chat account is linked to wallet ${pending.wallet}.`],
          tone: 'success',
        }),
      };
    if (pending.state === 'cancelled')
      return {
        reply: privateReply({
          title: 'Link cancelled',
          blocks: ['You cancelled this link; nothing was linked. Run /link to start again.'],
        }),
      };
    if (pending.state === 'expired')
      return {
        reply: privateReply({
          title: 'Link expired',
          blocks: ['This link expired before it was confirmed; nothing was linked. Run /link for a new one.'],
          tone: 'warning',
        }),
      };
    if (pending.state === 'not_signed') {
      return {
        reply: privateReply({
          title: 'Not signed yet',
          blocks: [
            'Nobody has signed in with this link yet: sign in with your wallet on the page it opened (closed it? run /link for a new one), then press Confirm link.',
          ],
          buttons: [{ kind: 'action', label: 'Confirm link', action: action('link', 'check', ref), style: 'primary' }],
        }),
      };
    }
    if (verb === 'ok') {
      const done = await ctx.ops.confirmLink(ctx.platform, ctx.user.id, ref, ctx.nowMs);
      if (!done) throw new BotError('link_not_confirmed', 'This link can no longer be confirmed; run /link for a new one.');
      return {
        reply: privateReply({ title: 'Linked', blocks: [`${pending.label} is now linked to wallet ${pending.wallet}.`], tone: 'success' }),
      };
    }
    if (verb === 'no') {
      await ctx.ops.cancelLink(ctx.platform, ctx.user.id, ref, ctx.nowMs);
      return {
        reply: privateReply({
          title: 'Link cancelled',
          blocks: [
            `Wallet ${pending.wallet} is not linked. If you did not sign in with it, someone else used your link: run /link for a new one and keep it to yourself.`,
          ],
        }),
      };
    }
    if (verb !== 'check') throw new BotError('invalid_action', 'This button is not a link confirmation.');
    return {
      reply: privateReply({
        title: 'Confirm the link',
        blocks: [`Link ${pending.label} to wallet ${pending.wallet}?`, 'Confirm only if you signed in with this wallet yourself.'],
        buttons: [
          { kind: 'action', label: 'Confirm', action: action('link', 'ok', ref), style: 'success' },
          { kind: 'action', label: 'Cancel', action: action('link', 'no', ref), style: 'danger' },
        ],
      }),
    };
  },
};

export const balanceCommand: CommandSpec = {
  name: 'balance',
  description: 'Your token balance',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const balance = await ctx.ops.balance(account);
    return privateReply({
      title: 'Balance',
      blocks: [`${formatAmount(balance, ctx.config.TOKEN_DECIMALS)} tokens available.`],
      fields: [{ name: 'Account', value: account }],
    });
  },
};
