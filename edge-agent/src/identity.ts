// The node's ed25519 device key. The node id is the base58 of the raw 32-byte public key.
// The private key lives in one PKCS8 PEM file with mode 0600; like ssh, the agent refuses a key
// file that its group or other users can read.
import { readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeBase58 } from '../../protocol/base58.ts';
import { AgentError } from './errors.ts';
import { ensureHome } from './config.ts';

export const KEY_FILE = 'device-key.pem';
const PEM_LABEL = 'PRIVATE KEY';
const ED25519 = { name: 'Ed25519' } as const;

export interface Identity {
  /** base58 of the raw public key */
  nodeId: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export function keyPath(home: string): string {
  return join(home, KEY_FILE);
}

/** Creates the key if there is none; never replaces an existing key (that would be a new node). */
export async function initIdentity(home: string): Promise<{ identity: Identity; created: boolean; path: string }> {
  const path = keyPath(home);
  if (await exists(path)) {
    return { identity: await loadIdentity(home), created: false, path };
  }
  await ensureHome(home);
  const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
  // The casts say which overload: the Workers runtime types (the agent contract test loads this
  // file in workerd) declare one exportKey for every format.
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
  // 'wx' fails if another process created the file in the meantime.
  await writeFile(path, toPem(pkcs8), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return { identity: await loadIdentity(home), created: true, path };
}

export async function loadIdentity(home: string): Promise<Identity> {
  const path = keyPath(home);
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AgentError('not_initialised', `no device key at ${path}; run "gridplane-agent init" first`);
    }
    throw err;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new AgentError(
      'insecure_key_file',
      `permissions ${octal} for ${path} are too open: the device key must not be readable by others; run "chmod 600 ${path}"`,
    );
  }
  const pkcs8 = fromPem(await readFile(path, 'utf8'), path);
  return identityFromPkcs8(pkcs8, path);
}

export async function identityFromPkcs8(pkcs8: Uint8Array<ArrayBuffer>, source = 'key'): Promise<Identity> {
  let exportable: CryptoKey;
  let signing: CryptoKey;
  try {
    exportable = await crypto.subtle.importKey('pkcs8', pkcs8, ED25519, true, ['sign']);
    signing = await crypto.subtle.importKey('pkcs8', pkcs8, ED25519, false, ['sign']);
  } catch (err) {
    throw new AgentError('bad_key', `${source} is not an ed25519 private key`, { cause: err });
  }
  const jwk = (await crypto.subtle.exportKey('jwk', exportable)) as JsonWebKey;
  if (!jwk.x) throw new AgentError('bad_key', `${source} has no public part`);
  const publicKey = new Uint8Array(Buffer.from(jwk.x, 'base64url'));
  if (publicKey.length !== 32) throw new AgentError('bad_key', `${source} has a malformed public key`);
  return {
    nodeId: encodeBase58(publicKey),
    publicKey,
    sign: async (message) => new Uint8Array(await crypto.subtle.sign(ED25519, signing, new Uint8Array(message))),
  };
}

function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${PEM_LABEL}-----\n${lines.join('\n')}\n-----END ${PEM_LABEL}-----\n`;
}

function fromPem(text: string, path: string): Uint8Array<ArrayBuffer> {
  const match = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(text);
  if (!match) throw new AgentError('bad_key', `${path} is not a PKCS8 PEM private key`);
  return new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
