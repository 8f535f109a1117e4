import { formatAmount } from '../../../workers/lib/amounts.ts';
import { untilTime } from '../../../workers/lib/human-time.ts';
import type { ActionSpec } from '../command.ts';
import { privateReply } from '../reply.ts';

// The Extend buttons under a template rental's "ends soon" alert (workers/alerts/renter-text.ts
// `renterButtons`): `rx:<endpoint id>:<end shown, base 36>:<minutes>`. The end it carries makes a
// second press (a double tap, an old message) change nothing: the domain operation only moves an
// end that is still the one shown (workers/endpoints/extend-rental.ts).

export const extendRentalAction: ActionSpec = {
  name: 'rx',
  personal: true,
  async run(ctx, [id = '', endText = '', minutesText = '']) {
    const account = await ctx.requireLinked();
    const fromStopAt = Number.parseInt(endText, 36);
    const minutes = Number(minutesText);
    if (!/^ep_[0-9a-f]{1,40}$/.test(id) || !Number.isSafeInteger(fromStopAt) || !Number.isInteger(minutes)) {
      return {
        reply: privateReply({ title: 'Not found', blocks: ['This button is broken. /endpoints lists your rentals.'], tone: 'warning' }),
      };
    }
    // Refusals (not yours, ended, balance short) come back as the domain's AppError, shown as is.
    const outcome = await ctx.ops.extendRental(account, id, fromStopAt, minutes * 60, ctx.nowMs);
    const e = outcome.endpoint;
    const until = e.stopAt === null ? 'until it is stopped' : untilTime(e.stopAt, ctx.nowMs);
    if (outcome.kind === 'unchanged') {
      return {
        reply: privateReply({
          title: `${e.name}: already extended`,
          blocks: [`Nothing changed: this button's end was moved already. It runs ${until}.`],
          tone: 'warning',
        }),
      };
    }
    return {
      reply: privateReply({
        title: `${e.name} extended`,
        blocks: [
          `It runs ${until} now (${minutes} min more, at most ${formatAmount(outcome.cost, ctx.config.TOKEN_DECIMALS)} tokens, billed per ready second).`,
        ],
        tone: 'success',
      }),
    };
  },
};
