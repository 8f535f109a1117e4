import { MAX_DURATION_S } from '../../../protocol/job-rules.ts';
import { formatAmount } from '../../../workers/lib/amounts.ts';
import { durationText, untilTime } from '../../../workers/lib/human-time.ts';
import type { Template } from '../../../workers/templates/templates.ts';
import { BotError, type BotContext } from '../command.ts';
import { privateReply, type Reply } from '../reply.ts';

// The Confirm of a template quote (/rent … template): the endpoint is created through the
// endpoints service (workers/templates/template-rental.ts), and the "Rented" message gives what
// the renter needs and nothing else to read: the URL, its token or key, the one command to
// connect, how long it runs and what it costs so far.

export interface TemplateChoice {
  model: string;
  count: number;
  durationS: number;
  near: { lat: number; lon: number };
  /** The quoted best price per GPU-hour (base units): the cap. */
  cap: bigint;
  /** Per quote and chat user: a double tap or a retried update rents once. */
  key: string;
}

/** Shortest template rental: under a minute the cron (each minute) could not stop it in time. */
const MIN_TEMPLATE_S = 60;

export async function rentTemplateReply(ctx: BotContext, account: string, template: Template, c: TemplateChoice): Promise<Reply> {
  if (c.durationS < MIN_TEMPLATE_S || c.durationS > MAX_DURATION_S || c.count < 1)
    throw new BotError('stale_button', 'This button is out of date; ask for a new quote with /rent.');
  const rental = await ctx.ops.rentTemplate(
    {
      accountId: account,
      template,
      gpu: { model: c.model, count: c.count },
      durationS: c.durationS,
      maxPricePerGpuHour: c.cap,
      near: c.near,
      idempotencyKey: c.key,
    },
    ctx.origin,
    ctx.nowMs,
  );
  const d = ctx.config.TOKEN_DECIMALS;
  const e = rental.endpoint;
  const cost = rental.replayed ? (await ctx.ops.endpointSummary(e, ctx.nowMs)).cost : 0n;
  const secret =
    rental.token !== null
      ? [`Token: ${rental.token}`]
      : rental.key !== null
        ? [`Key: ${rental.key} (shown once: keep it; callers send it as Authorization: Bearer)`]
        : ['Key: shown in the first "Rented" message for this quote (keys are shown once).'];
  const simulated =
    ctx.config.templateRuntime === 'process'
      ? [`SIMULATED: this deployment's agents use the process runtime, so a stand-in server labelled SIMULATED runs instead of ${e.image}.`]
      : [];
  return privateReply({
    title: rental.replayed ? 'Already rented' : 'Rented',
    blocks: [
      `${template.name} on ${c.count}× ${c.model} for ${durationText(c.durationS)}. It starts on the node within a minute or two (the first request waits for it).`,
      `URL: ${rental.url}`,
      ...secret,
      ...rental.connect.map((l) => `${l.label}: ${l.text}`),
      ...simulated,
    ],
    fields: [
      {
        name: 'Runs',
        value: e.stopAt === null ? 'until you stop it' : `${untilTime(e.stopAt, ctx.nowMs)}, then stops by itself`,
        inline: true,
      },
      { name: 'Costs so far', value: `${formatAmount(cost, d)} tokens (at most ${formatAmount(rental.maxCost, d)})`, inline: true },
      { name: 'Endpoint', value: e.id },
    ],
    footer: '/endpoints shows it and stops it early. Keep the token or key private: it opens your machine.',
    tone: 'success',
  });
}
