import { formatAmount, parseAmount } from '../../../workers/lib/amounts.ts';
import { dayTime, relativeTime } from '../../../workers/lib/human-time.ts';
import { qrPng } from '../../../workers/lib/qr-png.ts';
import { BotError, type CommandSpec } from '../command.ts';
import { privateReply } from '../reply.ts';

// /deposit: a Solana Pay transfer request for the linked account, made by the same function as
// POST /v1/accounts/me/deposits, so the cron credits it the same way. The request goes out as a
// QR code (a PNG: a wallet on another device scans it) and as the `solana:` URL (a wallet on this
// device opens it), and an "Open in wallet" button: buttons take only web URLs, so it opens the
// request's page (GET /pay/{reference}, workers/settlement/pay-page.app.ts), whose link opens the
// wallet. Discord shows the page's QR image in the embed.

export const depositCommand: CommandSpec = {
  name: 'deposit',
  description: 'Deposit tokens from your wallet (Solana Pay)',
  personal: true,
  options: [{ name: 'amount', description: 'Tokens to deposit, e.g. 25 (optional: your wallet asks)', type: 'string', maxLength: 40 }],
  async run(ctx) {
    const account = await ctx.requireLinked();
    if (!ctx.ops.depositsAvailable()) {
      throw new BotError('settlement_unavailable', 'Deposits are not available on this deployment: on-chain settlement is not configured.');
    }
    const d = ctx.config.TOKEN_DECIMALS;
    let expected: number | null = null;
    if (typeof ctx.options.amount === 'string' && ctx.options.amount.trim() !== '') {
      const parsed = parseAmount(ctx.options.amount.trim(), d);
      if (!parsed.ok || parsed.baseUnits <= 0)
        throw new BotError('invalid_amount', 'Give the amount in tokens, for example 25 or 12.5, or leave it out.');
      expected = parsed.baseUnits;
    }
    const { reference, instructions, decimals } = await ctx.ops.requestDeposit(account, expected, ctx.nowMs);
    return privateReply({
      title: expected === null ? 'Deposit tokens' : `Deposit ${formatAmount(expected, decimals)} tokens`,
      blocks: [
        'Open the Solana Pay link in your wallet (or scan it as a QR code). A wallet without Solana Pay can send the tokens to the token account below and add the reference as a read-only account.',
        instructions.url,
      ],
      fields: [
        { name: 'Token account', value: instructions.tokenAccount },
        { name: 'Mint', value: instructions.mint },
        { name: 'Reference', value: instructions.reference },
        ...(reference.expiresAt === null
          ? []
          : [
              {
                name: 'Watched until',
                value: `${dayTime(reference.expiresAt, ctx.nowMs)} (${relativeTime(reference.expiresAt, ctx.nowMs)})`,
              },
            ]),
      ],
      footer: 'Credited to your balance once the transfer is finalized; /balance shows it.',
      image: {
        png: await qrPng(instructions.url),
        filename: 'deposit.png',
        caption: 'Scan with your wallet to pay this deposit request (Solana Pay).',
        url: `${ctx.origin}/pay/${instructions.reference}/qr.png`,
      },
      buttons: [{ kind: 'link', label: 'Open in wallet', url: `${ctx.origin}/pay/${instructions.reference}` }],
    });
  },
};
