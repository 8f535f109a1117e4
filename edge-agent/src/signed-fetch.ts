// Every request the agent makes is signed as PROTOCOL.md "Signed agent requests" says. The signed
// bytes come from the shared protocol module so agent and Worker can never disagree on them.
import { randomBytes } from 'node:crypto';
import { AGENT_HEADERS, NONCE_PATTERN, bytesToBase64, sha256Hex, signingString } from '../../protocol/signed-request.ts';
import type { Identity } from './identity.ts';

export interface SignedFetchDeps {
  fetch?: typeof globalThis.fetch;
  /** Wall clock in ms, for the timestamp header. */
  now?: () => number;
  nonce?: () => string;
}

export interface SignedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path and query, e.g. "/v1/nodes/abc/heartbeat". Resolved against the control-plane URL. */
  path: string;
  /** Serialised as JSON once; the same bytes are hashed and sent. */
  body?: unknown;
  signal?: AbortSignal;
}

export type SignedFetch = (request: SignedRequest) => Promise<Response>;

/** 24 characters of base64url (18 random bytes), fresh for every request. */
export function randomNonce(): string {
  return randomBytes(18).toString('base64url');
}

export async function signatureHeaders(
  identity: Identity,
  input: { method: string; pathWithQuery: string; body: Uint8Array; timestampMs: number; nonce: string },
): Promise<Record<string, string>> {
  if (!NONCE_PATTERN.test(input.nonce)) throw new Error(`nonce ${JSON.stringify(input.nonce)} does not match the protocol`);
  const message = signingString({
    method: input.method,
    pathWithQuery: input.pathWithQuery,
    timestampMs: input.timestampMs,
    nonce: input.nonce,
    bodySha256Hex: await sha256Hex(input.body),
  });
  const signature = await identity.sign(new TextEncoder().encode(message));
  return {
    [AGENT_HEADERS.node]: identity.nodeId,
    [AGENT_HEADERS.timestamp]: String(input.timestampMs),
    [AGENT_HEADERS.nonce]: input.nonce,
    [AGENT_HEADERS.signature]: bytesToBase64(signature),
  };
}

export function createSignedFetch(identity: Identity, baseUrl: string, deps: SignedFetchDeps = {}): SignedFetch {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const now = deps.now ?? Date.now;
  const nonce = deps.nonce ?? randomNonce;
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return async ({ method, path, body, signal }) => {
    const url = new URL(prefix + path, base.origin);
    // Sign what goes on the wire: the URL parser may normalise the path, so read it back.
    const pathWithQuery = url.pathname + url.search;
    const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(await signatureHeaders(identity, { method, pathWithQuery, body: bytes, timestampMs: now(), nonce: nonce() })),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return doFetch(url, { method, headers, body: body === undefined ? undefined : bytes, signal, redirect: 'manual' });
  };
}
