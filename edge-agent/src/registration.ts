// What registering a node means, shared by `register` and the daemon: which GPUs to report and
// the body of POST /v1/nodes.
import type { AgentConfig } from './config.ts';
import type { RegistrationBody } from './control-plane-client.ts';
import { createNvidiaSmiSource } from './gpu-detect.ts';
import type { GpuInventoryEntry, GpuSource } from './gpu-source.ts';
import { createSimulatedSource } from './simulate.ts';
import { AGENT_VERSION } from './version.ts';

export function gpuSourceFor(config: Pick<AgentConfig, 'simulateGpus' | 'nvidiaSmiPath'>, random?: () => number): GpuSource {
  return config.simulateGpus ? createSimulatedSource(config.simulateGpus, random) : createNvidiaSmiSource(config.nvidiaSmiPath);
}

export function registrationBody(config: AgentConfig, gpus: GpuInventoryEntry[]): RegistrationBody {
  return {
    owner: config.owner,
    name: config.nodeName,
    gpus,
    location: config.location,
    pricePerGpuHour: config.pricePerGpuHour,
    agentVersion: AGENT_VERSION,
  };
}
