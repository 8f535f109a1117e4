import { loadConfig } from '../config.ts';
import { ControlPlaneClient, ControlPlaneError, type NodeView } from '../control-plane-client.ts';
import { loadIdentity } from '../identity.ts';
import { createSignedFetch } from '../signed-fetch.ts';
import type { CommandIo } from './io.ts';

export interface StatusInput {
  home: string;
  json: boolean;
}

/** Exit 0 when the control plane knows the node; 1 when it is unreachable or does not. */
export async function statusCommand(input: StatusInput, io: CommandIo): Promise<number> {
  const identity = await loadIdentity(input.home);
  const config = await loadConfig(input.home);
  const client = new ControlPlaneClient({ signedFetch: createSignedFetch(identity, config.controlPlaneUrl), timeoutMs: 10_000 });
  let node: NodeView | null = null;
  let remote: string;
  try {
    node = await client.getNode(identity.nodeId);
    remote = `${node.status}${node.lastSeenAt ? ` (last seen ${String(node.lastSeenAt)})` : ''}`;
  } catch (err) {
    if (!(err instanceof ControlPlaneError)) throw err;
    remote =
      err.failure === 'unreachable'
        ? `unreachable: ${err.message}`
        : err.status === 404
          ? 'not registered (run "gridplane-agent register")'
          : `error: ${err.message}`;
  }
  if (input.json) {
    io.out(JSON.stringify({ nodeId: identity.nodeId, home: input.home, config, remote: node ?? { error: remote } }));
    return node ? 0 : 1;
  }
  io.out(`node id:        ${identity.nodeId}`);
  io.out(`home:           ${input.home}`);
  io.out(`control plane:  ${config.controlPlaneUrl}`);
  io.out(`name:           ${config.nodeName}`);
  io.out(`owner:          ${config.owner}`);
  io.out(`location:       ${config.location.lat}, ${config.location.lon} (${config.location.country})`);
  io.out(`price:          ${config.pricePerGpuHour} per GPU-hour`);
  io.out(`GPUs:           ${config.simulateGpus ? `SIMULATED ${config.simulateGpus}` : `detected by ${config.nvidiaSmiPath}`}`);
  io.out(`remote status:  ${remote}`);
  return node ? 0 : 1;
}
