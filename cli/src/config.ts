import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// Where `gridplane login` keeps the API key: $XDG_CONFIG_HOME/gridplane/config.json, else
// ~/.config/gridplane/config.json. The file is mode 0600 and its folder 0700: the key spends
// the account's balance. GRIDPLANE_API_KEY / GRIDPLANE_URL and --api-key / --url override it.

export const DEFAULT_URL = 'http://127.0.0.1:8787';

export interface StoredConfig {
  url?: string;
  apiKey?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'gridplane', 'config.json');
}

export async function readConfig(path: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as StoredConfig;
    return {
      url: typeof parsed.url === 'string' ? parsed.url : undefined,
      apiKey: typeof parsed.apiKey === 'string' ? parsed.apiKey : undefined,
    };
  } catch {
    throw new Error(`${path} is not valid JSON; fix it or delete it and log in again.`);
  }
}

export async function writeConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // writeFile keeps the mode of a file that already exists: set it every time.
  await chmod(path, 0o600);
}

export async function removeConfig(path: string): Promise<void> {
  await rm(path, { force: true });
}

export interface Resolved {
  url: string;
  apiKey?: string;
  /** Where the key came from, for messages. */
  keySource: 'flag' | 'env' | 'config' | 'none';
}

/** Flags first, then the environment, then the file. */
export function resolveSettings(flags: { url?: string; apiKey?: string }, env: NodeJS.ProcessEnv, stored: StoredConfig): Resolved {
  const url = (flags.url ?? env.GRIDPLANE_URL ?? stored.url ?? DEFAULT_URL).replace(/\/+$/, '');
  if (flags.apiKey) return { url, apiKey: flags.apiKey, keySource: 'flag' };
  if (env.GRIDPLANE_API_KEY) return { url, apiKey: env.GRIDPLANE_API_KEY, keySource: 'env' };
  if (stored.apiKey) return { url, apiKey: stored.apiKey, keySource: 'config' };
  return { url, keySource: 'none' };
}
