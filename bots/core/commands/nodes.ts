import { formatAmount } from '../../../workers/lib/amounts.ts';
import { GPU_CATALOG } from '../../../protocol/gpu-catalog.ts';
import { BotError, type BotContext, type CommandSpec } from '../command.ts';
import { reply, type Choice } from '../reply.ts';

/** The caller's own nodes (owned by their linked wallet) whose id or name starts as typed. */
async function ownNodeChoices(ctx: BotContext, typed: string): Promise<Choice[]> {
  const account = await ctx.linkedAccount();
  if (!account) return [];
  const rows = await ctx.ops.ownedNodes(account, { namePrefix: typed, limit: 25 });
  return rows.map((n) => ({ name: `${n.name} (${n.status}) ${n.id.slice(0, 8)}…`.slice(0, 100), value: n.id }));
}

export const nodeOption = { name: 'node', description: 'Node id (your nodes are suggested)', type: 'string', required: true, maxLength: 44, autocomplete: ownNodeChoices } as const;

export const statusCommand: CommandSpec = {
  name: 'status',
  description: 'A node: status, GPUs, price, uptime',
  options: [nodeOption],
  async run(ctx) {
    const id = String(ctx.options.node ?? '').trim();
    if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(id)) throw new BotError('invalid_node', 'A node id is the base58 key the agent printed at init.');
    const found = await ctx.ops.node(id);
    if (!found) throw new BotError('node_not_found', 'There is no node with that id.');
    const { node, gpus } = found;
    return reply({
      title: `${node.name} — ${node.status}`,
      blocks: [gpus.map((g) => `${g.count}× ${g.canonicalModel} (${Math.round(g.vramMb / 1024)} GB)`).join('\n') || 'No GPUs reported.'],
      fields: [
        { name: 'Price', value: `${formatAmount(node.pricePerGpuHour, ctx.config.TOKEN_DECIMALS)} per GPU-hour`, inline: true },
        { name: 'Country', value: node.country, inline: true },
        { name: 'Last seen', value: new Date(node.lastSeenAt).toISOString(), inline: true },
        { name: 'Reputation', value: node.reputation.toFixed(2), inline: true },
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
    return reply({ title: gpu ? `Online nodes with ${gpu}` : 'Online nodes', blocks: [lines.length ? lines.join('\n') : 'No node is online right now.'] });
  },
};


export async function gpuModelChoices(_ctx: BotContext, typed: string): Promise<Choice[]> {
  const t = typed.trim().toLowerCase();
  return GPU_CATALOG.filter((g) => !t || g.name.toLowerCase().includes(t) || g.code.includes(t)).map((g) => ({ name: `${g.name} (${g.vramMb / 1024} GB)`, value: g.name }));
}
