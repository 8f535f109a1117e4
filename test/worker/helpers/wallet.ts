import { createExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { app } from '../../../workers/app.ts';
import { encodeBase58 } from '../../../protocol/base58.ts';

// A Solana wallet for tests: an Ed25519 key pair in WebCrypto that signs SIWS messages the way
// a wallet's signMessage does (the UTF-8 bytes of the text). Independent of the Worker's code.

export interface TestWallet {
  address: string;
  keyPair: CryptoKeyPair;
  /** The signature over the UTF-8 message, base58 (default) or standard base64. */
  sign(message: string, encoding?: 'base58' | 'base64'): Promise<string>;
}

export async function newWallet(): Promise<TestWallet> {
  const keyPair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey('raw', keyPair.publicKey)) as ArrayBuffer);
  return {
    address: encodeBase58(raw),
    keyPair,
    async sign(message, encoding = 'base58') {
      const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', keyPair.privateKey, new TextEncoder().encode(message)));
      return encoding === 'base58' ? encodeBase58(signature) : btoa(String.fromCharCode(...signature));
    },
  };
}

export const BASE = 'http://gridplane.test';

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

/** The test suite's bindings with ENVIRONMENT=development: where the faucet route exists. */
export const DEVELOPMENT = { ...env, ENVIRONMENT: 'development' } as typeof env;

/** The same Worker app under other bindings (another environment, another configuration). */
export async function postJsonIn(
  bindings: typeof env,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const request = new Request(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return app.fetch(request, bindings, createExecutionContext());
}

export function getWithKey(path: string, apiKey: string): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${apiKey}` } }));
}

export async function challenge(wallet: TestWallet, linkToken?: string): Promise<{ message: string; nonce: string; expiresAt: string }> {
  const res = await postJson('/v1/auth/siws/challenge', { address: wallet.address, ...(linkToken ? { linkToken } : {}) });
  if (res.status !== 201) throw new Error(`challenge failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface SignedIn {
  accountId: string;
  apiKey: string;
  wallet: string;
  created: boolean;
  linked: { platform: string; platformUserId: string } | null;
}

/** The whole sign-in: challenge, sign, verify. */
export async function signIn(wallet: TestWallet, linkToken?: string): Promise<SignedIn> {
  const { message } = await challenge(wallet, linkToken);
  const res = await postJson('/v1/auth/siws/verify', { message, signature: await wallet.sign(message) });
  if (res.status !== 200) throw new Error(`verify failed: ${res.status} ${await res.text()}`);
  return res.json();
}
