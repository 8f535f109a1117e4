import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase58 } from '../../../protocol/base58.ts';
import { initCommand } from '../../../edge-agent/src/commands/init.ts';
import type { AgentConfigInput } from '../../../edge-agent/src/config.ts';

/** A valid Solana address (the System Program's is all ones; this one is a real wallet shape). */
export const OWNER = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';

export async function tempDir(prefix = 'gridplane-agent-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const silentIo = { out: () => {}, err: () => {} };

/** Runs `init` into a fresh home and returns the home and the node's public key, read with node:crypto. */
export async function initHome(config: Partial<AgentConfigInput> & { controlPlaneUrl: string }): Promise<{
  home: string;
  nodeId: string;
  publicKey: KeyObject;
}> {
  const home = join(await tempDir(), 'home');
  await initCommand(
    {
      home,
      force: false,
      json: false,
      config: {
        nodeName: 'rig-1',
        owner: OWNER,
        location: { lat: 35.68, lon: 139.69, country: 'JP' },
        pricePerGpuHour: '1.250000',
        simulateGpus: 'RTX 4090x2',
        ...config,
      },
    },
    silentIo,
  );
  const { publicKey, nodeId } = await readPublicKey(home);
  return { home, nodeId, publicKey };
}

/** The node id computed without the agent's code: node:crypto reads the PEM, we base58 the raw key. */
export async function readPublicKey(home: string): Promise<{ publicKey: KeyObject; nodeId: string }> {
  const pem = await readFile(join(home, 'device-key.pem'), 'utf8');
  const publicKey = createPublicKey(createPrivateKey(pem));
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x!, 'base64url');
  return { publicKey, nodeId: encodeBase58(new Uint8Array(raw)) };
}
