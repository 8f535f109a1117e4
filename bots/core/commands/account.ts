import { createLinkToken } from '../../../workers/accounts/links.ts';
import { formatAmount } from '../../../workers/lib/amounts.ts';
import { getBalance } from '../../../workers/ledger/ledger.repo.ts';
import type { CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';

export const linkCommand: CommandSpec = {
  name: 'link',
  description: 'Link this chat account to your Solana wallet',
  personal: true,
  async run(ctx) {
    const { token, expiresAt } = await createLinkToken(ctx.db, ctx.platform, ctx.user.id, { nowMs: ctx.nowMs });
    const url = `${ctx.origin}/link?token=${encodeURIComponent(token)}`;
    const already = await ctx.linkedAccount();
    return privateReply({
      title: 'Link your wallet',
      blocks: [
        'Open the link and sign in with your Solana wallet. This chat account is then linked to it, so you can rent, stake and vote from here.',
        already ? 'You are already linked; signing in with another wallet moves the link to it.' : `The link works once and expires at ${new Date(expiresAt).toISOString()}.`,
      ],
      buttons: [{ kind: 'link', label: 'Sign in with Solana', url }],
    });
  },
};

export const balanceCommand: CommandSpec = {
  name: 'balance',
  description: 'Your token balance',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const balance = (await getBalance(ctx.db, account)) ?? 0;
    return privateReply({
      title: 'Balance',
      blocks: [`${formatAmount(balance, ctx.config.TOKEN_DECIMALS)} tokens available.`],
      fields: [{ name: 'Account', value: account }],
    });
  },
};
