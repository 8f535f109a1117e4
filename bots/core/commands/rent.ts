import { jobRequestSchema } from '../../../workers/jobs/job-input.schema.ts';
import { maxPriceOf } from '../../../workers/jobs/quotes.app.ts';
import { validate } from '../../../workers/http/body.ts';
import { formatAmount, parseAmount } from '../../../workers/lib/amounts.ts';
import { durationText, relativeTime } from '../../../workers/lib/human-time.ts';
import { canonicalGpuModel, GPU_CATALOG } from '../../../protocol/gpu-catalog.ts';
import { BotError, type ActionSpec, type CommandSpec } from '../command.ts';
import { action, privateReply } from '../reply.ts';
import { gpuModelChoices } from './nodes.ts';
import { TEMPLATES, type Template } from '../../../workers/templates/templates.ts';
import { rentTemplateReply } from './rent-template.ts';

/**
 * What a chat rental can be for (issue 15): the catalogue's templates that need nothing typed (the
 * custom template needs an image: GET /v1/templates and POST /v1/endpoints), or just the GPUs.
 */
export const CHAT_TEMPLATES: readonly Template[] = TEMPLATES.filter((t) => t.image !== null);

/** Where a renter is, coarsely: the quote ranks nodes by estimated latency from here. */
export const REGIONS = {
  'us-east': { name: 'North America (east)', lat: 39.0, lon: -77.5 },
  'us-west': { name: 'North America (west)', lat: 37.4, lon: -122.1 },
  'south-america': { name: 'South America', lat: -23.5, lon: -46.6 },
  'eu-west': { name: 'Europe (west)', lat: 48.85, lon: 2.35 },
  'eu-central': { name: 'Europe (central)', lat: 50.1, lon: 8.7 },
  africa: { name: 'Africa', lat: -26.2, lon: 28.0 },
  'middle-east': { name: 'Middle East', lat: 25.2, lon: 55.3 },
  'asia-south': { name: 'Asia (south)', lat: 19.1, lon: 72.9 },
  'asia-east': { name: 'Asia (east)', lat: 35.68, lon: 139.69 },
  'asia-southeast': { name: 'Asia (southeast)', lat: 1.35, lon: 103.8 },
  oceania: { name: 'Oceania', lat: -33.87, lon: 151.2 },
} as const;
type Region = keyof typeof REGIONS;

export const rentCommand: CommandSpec = {
  name: 'rent',
  description: 'Quote GPUs near you, then confirm to rent',
  slow: true,
  personal: true,
  options: [
    { name: 'gpu', description: 'GPU model', type: 'string', required: true, maxLength: 40, autocomplete: gpuModelChoices },
    { name: 'count', description: 'How many GPUs', type: 'integer', required: true, min: 1, max: 64 },
    // As short as POST /v1/jobs allows (a whole second); the chat shows it as "5 min", "1 h 30 min".
    { name: 'hours', description: 'For how long, in hours (0.5 = 30 min)', type: 'number', required: true, min: 1 / 3600, max: 720 },
    {
      name: 'region',
      description: 'Where you are',
      type: 'string',
      required: true,
      choices: Object.entries(REGIONS).map(([value, r]) => ({ name: r.name, value })),
    },
    { name: 'max_price', description: 'Highest price per GPU-hour in tokens, e.g. 2.5', type: 'string', maxLength: 40 },
    {
      name: 'template',
      description: 'What for: a notebook, a chat model, a shell (none: just the GPUs)',
      type: 'string',
      choices: CHAT_TEMPLATES.map((t) => ({ name: t.name, value: t.id })),
    },
  ],
  async run(ctx) {
    await ctx.requireLinked();
    const model = canonicalGpuModel(String(ctx.options.gpu ?? ''));
    if (!model) throw new BotError('unknown_gpu', `Pick a GPU model from the list (${GPU_CATALOG.map((g) => g.name).join(', ')}).`);
    const count = Number(ctx.options.count);
    const hours = Number(ctx.options.hours);
    const region = String(ctx.options.region ?? '') as Region;
    if (!REGIONS[region]) throw new BotError('unknown_region', 'Pick a region from the list.');
    const templateId = typeof ctx.options.template === 'string' && ctx.options.template !== '' ? ctx.options.template : null;
    const template = templateId === null ? null : CHAT_TEMPLATES.find((t) => t.id === templateId);
    if (template === undefined)
      throw new BotError('unknown_template', `Pick a template from the list (${CHAT_TEMPLATES.map((t) => t.id).join(', ')}).`);
    let cap: bigint | null = null;
    if (typeof ctx.options.max_price === 'string') {
      const parsed = parseAmount(ctx.options.max_price.trim(), ctx.config.TOKEN_DECIMALS);
      if (!parsed.ok) throw new BotError('invalid_price', `max_price ${parsed.reason}.`);
      cap = BigInt(parsed.baseUnits);
    }
    // The quote POST /v1/quotes runs, with the configured routing weights: chat and API agree.
    const quote = await ctx.ops.quote(
      { models: [model.name], minVramMb: template?.minVramMb ?? 0, count, maxPricePerGpuHour: cap, client: REGIONS[region], limit: 3 },
      ctx.nowMs,
    );
    if (quote.candidates.length === 0) {
      return privateReply({
        title: 'No offer',
        blocks: [`No online node has ${count}× ${model.name}${cap !== null ? ' at or under your price' : ''} right now.`],
        tone: 'warning',
      });
    }
    const decimals = ctx.config.TOKEN_DECIMALS;
    const best = quote.candidates[0]!;
    const total = (best.pricePerGpuHour * BigInt(Math.round(hours * 3600)) * BigInt(count)) / 3600n;
    const confirm = (t: Template | null) =>
      action(
        'rent',
        String(GPU_CATALOG.indexOf(model)),
        String(count),
        String(Math.round(hours * 3600)),
        region,
        best.pricePerGpuHour.toString(),
        ctx.eventId,
        ...(t ? [String(TEMPLATES.indexOf(t))] : []),
      );
    // Without a template asked for, the quote offers the catalogue: Confirm rents the GPUs as a
    // job; each template button starts that template on them instead (an endpoint, billed per second).
    const offered = template ? [template] : CHAT_TEMPLATES;
    return privateReply({
      title: template
        ? `${template.name} on ${count}× ${model.name} for ${durationText(Math.round(hours * 3600))}`
        : `${count}× ${model.name} for ${durationText(Math.round(hours * 3600))}`,
      blocks: [
        `Best offer: ${formatAmount(best.pricePerGpuHour, decimals)} per GPU-hour, about ${Math.round(best.estRttMs)} ms from ${REGIONS[region].name}.`,
        ...(template
          ? [template.summary]
          : [`What for? ${CHAT_TEMPLATES.map((t) => `${t.name}: ${t.summary}`).join(' ')} Confirm rents just the GPUs, as a job.`]),
      ],
      fields: quote.candidates.map((c, i) => ({
        name: `${i + 1}. ${c.location.country ?? ''} ${c.nodeId.slice(0, 8)}…`,
        value: `${formatAmount(c.pricePerGpuHour, decimals)}/GPU-h · ~${Math.round(c.estRttMs)} ms`,
        inline: true,
      })),
      footer: template
        ? `Billed per second while it is up, at most ${formatAmount(total, decimals)} tokens for the ${durationText(Math.round(hours * 3600))}; it stops by itself at the end.`
        : `Held in escrow when you confirm: ${formatAmount(total, decimals)} tokens. A template is billed per second while it is up instead, at most that much, and stops by itself at the end.`,
      buttons: [
        // The catalogue index, not the model code: "3090" is both the RTX 3090 and the 3090 Ti.
        // The quoted best price is the cap, and the nonce (this quote's update/interaction/flow id,
        // never the clock) makes the confirmation idempotent: every copy of this quote, even one a
        // retried update sent again, rents once.
        ...(template ? [] : [{ kind: 'action' as const, label: 'Confirm', style: 'success' as const, action: confirm(null) }]),
        // The quote's nonce too: a Cancel pressed after its Confirm must find the job it placed.
        { kind: 'action', label: 'Cancel', style: 'secondary', action: action('rent', 'cancel', ctx.eventId) },
        ...offered.map((t) => ({
          kind: 'action' as const,
          label: template ? `Start ${t.name}` : t.name,
          style: 'primary' as const,
          action: confirm(t),
        })),
      ],
    });
  },
};

/** What a chat rental runs: the GPUs are held for the rented time; the renter attaches to the node. */
export const CHAT_RENT_IMAGE = 'nvidia/cuda:12.4.1-base-ubuntu22.04';

/** One key per quote (its nonce) and chat user: the Confirm places with it, a late Cancel looks it up. */
const chatRentKey = (account: string, ctx: { platform: string; user: { id: string } }, nonce: string) =>
  `${account}:chat-rent:${ctx.platform}:${ctx.user.id}:${nonce}`;

export const rentAction: ActionSpec = {
  name: 'rent',
  personal: true,
  slow: true,
  async run(ctx, [first, countText, secondsText, regionText, capText, nonce, templateIndex]) {
    if (first === 'cancel') {
      // A finished flow's button stops acting: when this quote was confirmed, escrow is held and
      // the job exists, so "nothing was held" would be false. Say what is there and how to stop it.
      const account = countText ? await ctx.linkedAccount() : null;
      const placed = account ? await ctx.ops.jobByKey(account, chatRentKey(account, ctx, countText!)) : undefined;
      if (placed) {
        return {
          reply: privateReply({
            title: 'Already rented',
            blocks: [
              `This quote was confirmed: job ${placed.id} is ${placed.status}, with ${formatAmount(placed.escrowAmount, ctx.config.TOKEN_DECIMALS)} tokens held in escrow. /cancel ${placed.id} stops it (you pay only for the time it ran).`,
            ],
            tone: 'warning',
          }),
        };
      }
      // A template button of this quote made an endpoint (keyed the same way): it runs, billed per second.
      const started = account ? await ctx.ops.endpointByKey(chatRentKey(account, ctx, countText!)) : undefined;
      if (started && started.status !== 'deleted') {
        return {
          reply: privateReply({
            title: 'Already rented',
            blocks: [
              `This quote was confirmed: ${started.name} (${started.id}) is ${started.status}, billed per second while it is up. /endpoints stops it (you pay only for the time it ran).`,
            ],
            tone: 'warning',
          }),
        };
      }
      return { reply: privateReply({ blocks: ['Cancelled; nothing was held.'] }) };
    }
    const account = await ctx.requireLinked();
    const model = GPU_CATALOG[Number(first)];
    const count = Number(countText);
    const durationS = Number(secondsText);
    const region = REGIONS[regionText as Region];
    if (!model || !region || !Number.isInteger(count) || !Number.isInteger(durationS) || !/^\d{1,16}$/.test(capText ?? '') || !nonce) {
      throw new BotError('stale_button', 'This button is out of date; ask for a new quote with /rent.');
    }
    const d = ctx.config.TOKEN_DECIMALS;
    if (templateIndex !== undefined) {
      const template = TEMPLATES[Number(templateIndex)];
      if (!template || template.image === null)
        throw new BotError('stale_button', 'This button is out of date; ask for a new quote with /rent.');
      return {
        reply: await rentTemplateReply(ctx, account, template, {
          model: model.name,
          count,
          durationS,
          near: { lat: region.lat, lon: region.lon },
          cap: BigInt(capText!),
          key: chatRentKey(account, ctx, nonce),
        }),
      };
    }
    // The same schema as POST /v1/jobs: a button carries data a client could alter, so what it
    // asks for meets the API's own limits (count, duration, image, price) before anything is held.
    const request = validate(jobRequestSchema, {
      gpu: { model: model.name, count },
      durationS,
      maxPricePerGpuHour: formatAmount(BigInt(capText!), d),
      client: { lat: region.lat, lon: region.lon },
      image: CHAT_RENT_IMAGE,
      command: ['sleep', String(durationS)],
      env: {},
    });
    // The same button pressed twice (or a platform retry) places one job: the key names the quote.
    const { job, replayed } = await ctx.ops.submitJob(
      {
        accountId: account,
        request,
        client: request.client!,
        maxPrice: maxPriceOf(request.maxPricePerGpuHour, d),
        idempotencyKey: chatRentKey(account, ctx, nonce),
      },
      ctx.nowMs,
    );
    return {
      reply: privateReply({
        title: replayed ? 'Already rented' : 'Rented',
        blocks: [`${count}× ${model.name} for ${durationText(durationS)}: job ${job.id} is ${job.status}.`],
        fields: [
          { name: 'Held in escrow', value: `${formatAmount(job.escrowAmount, d)} tokens`, inline: true },
          { name: 'Node', value: job.nodeId ?? 'choosing', inline: true },
        ],
        footer: `/job ${job.id} shows its status and logs; /cancel ${job.id} stops it.`,
        tone: 'success',
      }),
    };
  },
};

export const jobsCommand: CommandSpec = {
  name: 'jobs',
  description: 'Your recent jobs',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const rows = await ctx.ops.jobs(account, 10);
    const lines = rows.map((j) => `${j.id} · ${j.status} · ${j.gpuCount} GPU · ${relativeTime(j.createdAt, ctx.nowMs)}`);
    return privateReply({ title: 'Your jobs', blocks: [lines.length ? lines.join('\n') : 'No jobs yet. Try /rent.'] });
  },
};
