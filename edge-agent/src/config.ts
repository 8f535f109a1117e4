// The agent's config file: parsed once at the boundary with one schema; a bad file fails at start.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { decodePublicKey } from '../../protocol/base58.ts';
import { AgentError } from './errors.ts';
import { DEFAULT_JOB_NETWORK } from './jobs/docker-runtime.ts';
import { parseSimulateSpec } from './simulate.ts';

export const DEFAULT_CONTROL_PLANE_URL = 'http://127.0.0.1:8787';
export const DEFAULT_NVIDIA_SMI_PATH = 'nvidia-smi';
export const HOME_ENV = 'GRIDPLANE_AGENT_HOME';
export const CONFIG_FILE = 'config.json';

/** `--home DIR`, then `$GRIDPLANE_AGENT_HOME`, then `~/.gridplane-agent`. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env[HOME_ENV];
  return chosen ? resolve(chosen) : join(homedir(), '.gridplane-agent');
}

export const OwnerAddressSchema = z.string().refine((s) => decodePublicKey(s) !== null, 'must be a base58 Solana address (32 bytes)');

/** Whole tokens as a decimal string, like "1.250000"; never a float. */
export const PriceSchema = z
  .string()
  .regex(/^(0|[1-9]\d{0,11})(\.\d{1,9})?$/, 'must be a decimal string such as "1.250000"')
  .refine((s) => /[1-9]/.test(s), 'must be greater than zero');

export const LocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "JP"'),
});

export const SimulateSpecSchema = z.string().superRefine((spec, ctx) => {
  try {
    parseSimulateSpec(spec);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

/**
 * The control plane tells this host what to run, so it is reached over TLS; plain http only to a
 * control plane on this machine (`wrangler dev`, tests). Names other than `localhost` may resolve
 * anywhere, so only the literal loopback addresses count.
 */
export function isSafeControlPlaneUrl(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'https:') return true;
  return protocol === 'http:' && (hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname));
}

export const ControlPlaneUrlSchema = z
  .url({ protocol: /^https?$/ })
  .refine(isSafeControlPlaneUrl, 'must be https:// (plain http:// only to this machine: 127.0.0.1, localhost or [::1])');

export const JobNetworkSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a docker network name (letters, digits, _ . -), or "none"')
  .refine((name) => name !== 'host', 'cannot be "host": a job on the host\'s network reaches everything the host does');

export const AgentConfigSchema = z.object({
  controlPlaneUrl: ControlPlaneUrlSchema.default(DEFAULT_CONTROL_PLANE_URL),
  nodeName: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold letters, digits, ".", "_" and "-"'),
  owner: OwnerAddressSchema,
  location: LocationSchema,
  pricePerGpuHour: PriceSchema,
  /** A `--simulate-gpus` list such as "RTX 4090x2"; null on a real GPU host. */
  simulateGpus: SimulateSpecSchema.nullable().default(null),
  nvidiaSmiPath: z.string().min(1).default(DEFAULT_NVIDIA_SMI_PATH),
  /** `--network` of every job container; the default one the agent creates itself. */
  jobNetwork: JobNetworkSchema.default(DEFAULT_JOB_NETWORK),
});

export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

export function parseConfig(input: unknown, source: string): AgentConfig {
  const result = AgentConfigSchema.safeParse(input);
  if (!result.success) {
    throw new AgentError('bad_config', `invalid config (${source}):\n${z.prettifyError(result.error)}`);
  }
  return result.data;
}

export type ConfigOverrides = Partial<Pick<AgentConfig, 'controlPlaneUrl' | 'simulateGpus' | 'nvidiaSmiPath'>>;

/** The config file with settings given for one command run; undefined means "keep the file's". */
export function withOverrides(config: AgentConfig, overrides: ConfigOverrides = {}): AgentConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  if (Object.keys(defined).length === 0) return config;
  return parseConfig({ ...config, ...defined }, 'config with command-line overrides');
}

export function configPath(home: string): string {
  return join(home, CONFIG_FILE);
}

export async function loadConfig(home: string): Promise<AgentConfig> {
  const path = configPath(home);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AgentError('not_initialised', `no config at ${path}; run "gridplane-agent init" first`);
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AgentError('bad_config', `config ${path} is not valid JSON`, { cause: err });
  }
  return parseConfig(json, path);
}

export async function saveConfig(home: string, config: AgentConfig): Promise<string> {
  await ensureHome(home);
  const path = configPath(home);
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

export async function ensureHome(home: string): Promise<void> {
  // Only a directory we create gets 0700; an existing one the operator chose is left as it is.
  await mkdir(home, { recursive: true, mode: 0o700 });
}
