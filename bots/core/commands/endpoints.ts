import { formatAmount } from '../../../workers/lib/amounts.ts';
import { untilTime } from '../../../workers/lib/human-time.ts';
import type { EndpointRow, EndpointSummary, ReplicaPlace } from '../../../workers/endpoints/endpoint-summaries.ts';
import { MAX_REPLICAS } from '../../../workers/endpoints/endpoint-input.schema.ts';
import type { ActionSpec, BotContext, CommandSpec } from '../command.ts';
import { action, privateReply, type Reply, type ReplyButton } from '../reply.ts';
import { REGIONS } from './rent.ts';

// /endpoints (issue 12): a renter's endpoints — URL, replicas and where (node, country, region),
// ready or not, requests per minute, median latency, cost so far — and buttons to scale one
// (+1 / −1 on the replicas it keeps, within its min/max) or stop it. Every button carries the
// endpoint's version as shown: a press after the endpoint changed (another tap, the API, the
// cron stopping it) answers what changed and shows it as it is now, and acts on nothing.

/** `ep:<verb>:<endpoint id>[:<version>]`: v = show, + / - = scale, s = ask to stop, S = stop. */
const NAME = 'ep';

export const endpointsCommand: CommandSpec = {
  name: 'endpoints',
  description: 'Your endpoints: URL, replicas and where, traffic; scale or stop one',
  personal: true,
  async run(ctx) {
    const account = await ctx.requireLinked();
    const list = await ctx.ops.endpoints(account, ctx.nowMs);
    if (list.length === 0) {
      return privateReply({
        title: 'Your endpoints',
        blocks: ['You have no endpoints. /rent a notebook, a chat model or a shell, or create one with POST /v1/endpoints.'],
      });
    }
    // One endpoint: its buttons at once. Several: a line each and a button to open one.
    if (list.length === 1) return detail(ctx, list[0]!);
    return privateReply({
      title: `Your endpoints (${list.length})`,
      blocks: list.map((s) => summaryLines(ctx, s).join('\n')),
      buttons: list.map((s) => ({ kind: 'action', label: `Manage ${s.endpoint.name}`, action: action(NAME, 'v', s.endpoint.id) })),
    });
  },
};

export const endpointAction: ActionSpec = {
  name: NAME,
  personal: true,
  async run(ctx, [verb = '', id = '', versionText]) {
    const account = await ctx.requireLinked();
    const found = await ctx.ops.endpoint(account, id).catch(() => null);
    if (!found || !['v', '+', '-', 's', 'S'].includes(verb)) {
      return {
        reply: privateReply({
          title: 'Not found',
          blocks: ['This endpoint is not one of yours any more, or the button is broken. /endpoints lists what you have.'],
          tone: 'warning',
        }),
      };
    }
    if (found.status === 'deleted') {
      return {
        reply: privateReply({
          title: `${found.name} is stopped`,
          blocks: [
            'It was stopped already: its replicas are gone and the rest of its hold went back to your balance. /endpoints lists what you have.',
          ],
          tone: 'warning',
        }),
      };
    }
    if (verb === 'v') return { reply: await detail(ctx, await ctx.ops.endpointSummary(found, ctx.nowMs)) };
    if (versionText !== String(found.version)) {
      const now = await detail(ctx, await ctx.ops.endpointSummary(found, ctx.nowMs));
      return {
        reply: {
          ...now,
          title: `${found.name} changed since this button was shown`,
          blocks: ['Nothing was done. Here it is now:', ...now.blocks],
          tone: 'warning',
        },
      };
    }
    if (verb === 's') {
      return {
        reply: privateReply({
          title: `Stop ${found.name}?`,
          blocks: [
            `Its replicas stop, ready time is billed to the end, the rest of the hold goes back to your balance, and ${urlOf(ctx, found)} stops answering. This cannot be undone.`,
          ],
          buttons: [
            { kind: 'action', label: 'Yes, stop it', style: 'danger', action: action(NAME, 'S', found.id, String(found.version)) },
            { kind: 'action', label: 'Keep it', style: 'secondary', action: action(NAME, 'v', found.id) },
          ],
          tone: 'warning',
        }),
      };
    }
    if (verb === 'S') {
      await ctx.ops.stopEndpoint(found, ctx.nowMs);
      return {
        reply: privateReply({
          title: `${found.name} stopped`,
          blocks: ['Its replicas stop within a minute; the rest of the hold goes back to your balance once their time is billed.'],
          tone: 'success',
        }),
      };
    }
    const min = found.minReplicas + (verb === '+' ? 1 : -1);
    if (min > found.maxReplicas || min < 0) {
      const why =
        min < 0
          ? 'It keeps no replica already (it scales to zero when idle, if idle time is set).'
          : `It keeps ${found.maxReplicas}, its maximum, already (PATCH /v1/endpoints/{id} with replicas.max allows more, up to ${MAX_REPLICAS}).`;
      return {
        reply: {
          ...(await detail(ctx, await ctx.ops.endpointSummary(found, ctx.nowMs))),
          title: 'Nothing to change',
          blocks: [why],
          tone: 'warning',
        },
      };
    }
    const changed = await ctx.ops.scaleEndpoint(found, min, ctx.nowMs);
    const now = await detail(ctx, await ctx.ops.endpointSummary(changed, ctx.nowMs));
    return {
      reply: {
        ...now,
        title: `${changed.name}: keeps ${min} replica${min === 1 ? '' : 's'} now`,
        blocks: ['Replicas start or stop within a minute.', ...now.blocks],
        tone: 'success',
      },
    };
  },
};

const urlOf = (ctx: Pick<BotContext, 'origin'>, e: Pick<EndpointRow, 'id'>) => `${ctx.origin}/e/${e.id}/`;

/** "rig-paris (FR, Europe (west)) ready". */
export function replicaLine(r: ReplicaPlace): string {
  const region = r.lat === null || r.lon === null ? null : regionNear(r.lat, r.lon);
  const where = [r.country, region].filter(Boolean).join(', ');
  return `${r.nodeName ?? `${r.nodeId.slice(0, 8)}…`}${where ? ` (${where})` : ''} ${r.ready ? 'ready' : r.state}`;
}

function summaryLines(ctx: BotContext, s: EndpointSummary): string[] {
  const e = s.endpoint;
  const ready = s.replicas.filter((r) => r.ready).length;
  const t = s.traffic;
  const latency = t.medianTtfbMs === null ? 'no requests' : `median ${t.medianTtfbMs} ms to first byte`;
  return [
    `${e.name} — ${e.status === 'active' ? `${ready}/${s.replicas.length} ready` : `${e.status}${e.statusReason ? ` (${e.statusReason})` : ''}`}`,
    urlOf(ctx, e),
    `Replicas: ${s.replicas.length ? s.replicas.map(replicaLine).join('; ') : e.desiredReplicas === 0 && e.status === 'active' ? 'none (scaled to zero; the next request starts one)' : 'none yet'}`,
    `Traffic (last ${t.windowMinutes} min): ${t.requestsPerMinute} req/min, ${latency}${t.errors ? `, ${t.errors} errors` : ''}`,
  ];
}

async function detail(ctx: BotContext, s: EndpointSummary): Promise<Reply> {
  const e = s.endpoint;
  const d = ctx.config.TOKEN_DECIMALS;
  const buttons: ReplyButton[] = [];
  if (e.status !== 'deleted') {
    const v = String(e.version);
    if (e.minReplicas < e.maxReplicas)
      buttons.push({ kind: 'action', label: '+1 replica', style: 'primary', action: action(NAME, '+', e.id, v) });
    if (e.minReplicas > 0) buttons.push({ kind: 'action', label: '−1 replica', style: 'secondary', action: action(NAME, '-', e.id, v) });
    buttons.push({ kind: 'action', label: 'Stop', style: 'danger', action: action(NAME, 's', e.id, v) });
  }
  return privateReply({
    title: e.name,
    blocks: summaryLines(ctx, s),
    fields: [
      { name: 'Replicas kept', value: `min ${e.minReplicas}, max ${e.maxReplicas}`, inline: true },
      { name: 'Cost so far', value: `${formatAmount(s.cost, d)} tokens`, inline: true },
      ...(e.stopAt !== null && e.status === 'active' ? [{ name: 'Runs', value: untilTime(e.stopAt, ctx.nowMs), inline: true }] : []),
    ],
    buttons,
  });
}

/** The nearest of the chats' regions (rent.ts REGIONS), by great-circle distance. */
export function regionNear(lat: number, lon: number): string {
  let best = '';
  let bestD = Infinity;
  const rad = Math.PI / 180;
  for (const r of Object.values(REGIONS)) {
    const d = Math.acos(
      Math.min(
        1,
        Math.sin(lat * rad) * Math.sin(r.lat * rad) + Math.cos(lat * rad) * Math.cos(r.lat * rad) * Math.cos((lon - r.lon) * rad),
      ),
    );
    if (d < bestD) {
      bestD = d;
      best = r.name;
    }
  }
  return best;
}
