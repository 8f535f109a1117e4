import { existsSync } from 'node:fs';
import { configPath, parseConfig, saveConfig, type AgentConfigInput } from '../config.ts';
import { AgentError } from '../errors.ts';
import { initIdentity } from '../identity.ts';
import type { CommandIo } from './io.ts';

export interface InitInput {
  home: string;
  config: AgentConfigInput;
  /** Replace an existing config file. The device key is never replaced. */
  force: boolean;
  json: boolean;
}

export async function initCommand(input: InitInput, io: CommandIo): Promise<number> {
  // Validate everything before touching the disk, so bad flags leave nothing behind.
  const config = parseConfig(input.config, 'command-line flags');
  const path = configPath(input.home);
  if (existsSync(path) && !input.force) {
    throw new AgentError('already_initialised', `${path} already exists; pass --force to overwrite it (the device key is kept)`);
  }
  const { identity, created, path: keyFile } = await initIdentity(input.home);
  await saveConfig(input.home, config);
  if (input.json) {
    io.out(JSON.stringify({ nodeId: identity.nodeId, keyCreated: created, keyFile, configFile: path, config }));
    return 0;
  }
  io.out(`node id:      ${identity.nodeId}`);
  io.out(`device key:   ${keyFile} (${created ? 'created' : 'existing key kept'}, mode 0600)`);
  io.out(`config:       ${path}`);
  if (config.simulateGpus) io.out(`GPUs:         SIMULATED ${config.simulateGpus} (development only)`);
  io.out('next:         gridplane-agent register, then gridplane-agent run');
  return 0;
}
