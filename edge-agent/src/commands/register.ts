import { loadConfig, withOverrides, type ConfigOverrides } from '../config.ts';
import { ControlPlaneClient } from '../control-plane-client.ts';
import { loadIdentity } from '../identity.ts';
import { gpuSourceFor, registrationBody } from '../registration.ts';
import { createSignedFetch } from '../signed-fetch.ts';
import type { CommandIo } from './io.ts';

export interface RegisterInput {
  home: string;
  overrides: ConfigOverrides;
  json: boolean;
}

export async function registerCommand(input: RegisterInput, io: CommandIo): Promise<number> {
  const identity = await loadIdentity(input.home);
  const config = withOverrides(await loadConfig(input.home), input.overrides);
  const gpus = gpuSourceFor(config);
  const snapshot = await gpus.read();
  const client = new ControlPlaneClient({ signedFetch: createSignedFetch(identity, config.controlPlaneUrl) });
  const { created, node } = await client.register(registrationBody(config, snapshot.inventory));
  if (input.json) {
    io.out(JSON.stringify({ nodeId: identity.nodeId, created, simulated: gpus.simulated, node }));
    return 0;
  }
  io.out(`node id:  ${identity.nodeId}`);
  io.out(`result:   ${created ? 'registered (new node)' : 're-registered (details updated)'}`);
  io.out(`status:   ${node.status}`);
  io.out(`GPUs:     ${gpus.describe(snapshot)}`);
  return 0;
}
