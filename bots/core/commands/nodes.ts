import { formatAmount } from '../../../workers/lib/amounts.ts';
import { relativeTime } from '../../../workers/lib/human-time.ts';
import type { ServedReplica } from '../../../workers/endpoints/endpoint-summaries.ts';
import { GPU_CATALOG } from '../../../protocol/gpu-catalog.ts';
import { BotError, type BotContext, type CommandSpec } from '../command.ts';
import { reply, type Choice } from '../reply.ts';

/** A picker over every node a person may name: the caller's own first, then any other unsuspended node. */
async function anyNodeChoices(ctx: BotContext, typed: string): Promise<Choice[]> {
  const account = await ctx.linkedAccount();
  const own = account ? await ctx.ops.ownedNodes(account, { namePrefix: typed.trim(), limit: 25 }) : [];
  const mine = new Set(own.map((n) => n.id));
  const others = (await ctx.ops.nodeChoices(typed.trim(), 25)).filter((n) => !mine.has(n.id));
  return [...own.map((n) => ({ ...n, yours: true })), ...others.map((n) => ({ ...n, yours: false }))]
    .slice(0, 25)
    .map((n) => ({ name: `${n.name} (${n.status}${n.yours ? ', yours' : ''}) ${n.id.slice(0, 8)}…`.slice(0, 100), value: n.id }));
}

/** A node by its name or id: Discord suggests names and sends the id; on Telegram a person types either. */
export const nodeOption = {
  name: 'node',
  description: 'Node name or id (suggested as you type)',
  type: 'string',
  required: true,
  maxLength: 64,
  autocomplete: anyNodeChoices,
} as const;

/**
 * The node a person means by `ref`, a name (any case) or an id, among `among` when given (the
 * nodes an unstake can come from). Names are not unique: more than one node by that name is
 * answered with the list and their ids, so the person can name one exactly.
 */
export async function namedNode(
  ctx: BotContext,
  ref: string,
  options: { among?: ReadonlySet<string>; retry: (id: string) => string; none?: string },
) {
  const wanted = ref.trim();
  if (!wanted) throw new BotError('invalid_node', 'Name a node by its name or id; /nodes lists the online ones.');
  const rows = (await ctx.ops.nodesByRef(wanted, 10)).filter((n) => !options.among || options.among.has(n.id));
  if (rows[0] && (rows[0].id === wanted || rows.length === 1)) return rows[0];
  if (rows.length === 0)
    throw new BotError('node_not_found', options.none ?? `There is no node named "${wanted}". /nodes lists the online ones.`);
  const lines = rows.map((n) => `${n.name} · ${n.status} · ${n.country} · ${n.id}`);
  throw new BotError(
    'ambiguous_node',
    [`${rows.length} nodes are named "${wanted}"; name one by its id:`, ...lines, `For example: ${options.retry(rows[0]!.id)}`].join('\n'),
  );
}

export const statusCommand: CommandSpec = {
  name: 'status',
  description: 'A node: status, GPUs, price, uptime',
  options: [nodeOption],
  async run(ctx) {
    const node = await namedNode(ctx, String(ctx.options.node ?? ''), { retry: (id) => `/status ${id}` });
    const found = await ctx.ops.node(node.id);
    if (!found) throw new BotError('node_not_found', 'There is no node with that id.');
    const { gpus } = found;
    // Operators see the endpoint replicas their node serves (issue 12); the renter's endpoint by name only.
    const replicas = await ctx.ops.nodeReplicas(node.id);
    return reply({
      title: `${node.name} — ${node.status}`,
      blocks: [gpus.map((g) => `${g.count}× ${g.canonicalModel} (${Math.round(g.vramMb / 1024)} GB)`).join('\n') || 'No GPUs reported.'],
      fields: [
        { name: 'Price', value: `${formatAmount(node.pricePerGpuHour, ctx.config.TOKEN_DECIMALS)} per GPU-hour`, inline: true },
        { name: 'Country', value: node.country, inline: true },
        { name: 'Last seen', value: relativeTime(node.lastSeenAt, ctx.nowMs), inline: true },
        { name: 'Reputation', value: node.reputation.toFixed(2), inline: true },
        ...(replicas.length
          ? [
              {
                name: `Endpoint replicas (${replicas.length})`,
                value: replicas.map((r) => servedLine(r, ctx.nowMs, ctx.config.TOKEN_DECIMALS)).join('\n'),
              },
            ]
          : []),
        { name: 'Node', value: node.id },
      ],
      tone: node.status === 'online' ? 'success' : 'warning',
    });
  },
};

export const nodesCommand: CommandSpec = {
  name: 'nodes',
  description: 'Online nodes, optionally with one GPU model',
  options: [{ name: 'gpu', description: 'GPU model', type: 'string', maxLength: 40, autocomplete: gpuModelChoices }],
  async run(ctx) {
    const gpu = typeof ctx.options.gpu === 'string' ? ctx.options.gpu : undefined;
    const { rows, gpus } = await ctx.ops.nodes({ status: 'online', gpu, limit: 15 });
    const lines = rows.slice(0, 15).map((r) => {
      const summary = (gpus.get(r.id) ?? []).map((g) => `${g.count}× ${g.canonicalModel}`).join(', ');
      return `${r.name} · ${r.country} · ${summary} · ${formatAmount(r.pricePerGpuHour, ctx.config.TOKEN_DECIMALS)}/GPU-h`;
    });
    return reply({
      title: gpu ? `Online nodes with ${gpu}` : 'Online nodes',
      blocks: [lines.length ? lines.join('\n') : 'No node is online right now.'],
    });
  },
};

/** "chat rental · ready 25 min · 1 GPU at 2.5/GPU-h · earned 0.4" (earned: billed less the protocol fee). */
function servedLine(r: ServedReplica, nowMs: number, decimals: number): string {
  const state = r.state === 'ready' && r.readySince !== null ? `ready ${relativeTime(r.readySince, nowMs).replace(/ ago$/, '')}` : r.state;
  return `${r.endpointName} · ${state} · ${r.gpuCount} GPU at ${formatAmount(r.pricePerGpuHour, decimals)}/GPU-h · earned ${formatAmount(r.billed - r.fee, decimals)}`;
}

export async function gpuModelChoices(_ctx: BotContext, typed: string): Promise<Choice[]> {
  const t = typed.trim().toLowerCase();
  return GPU_CATALOG.filter((g) => !t || g.name.toLowerCase().includes(t) || g.code.includes(t)).map((g) => ({
    name: `${g.name} (${g.vramMb / 1024} GB)`,
    value: g.name,
  }));
}
