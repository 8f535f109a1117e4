import { decodePublicKey } from '../../protocol/base58.ts';
import { AGENT_HEADERS, MAX_CLOCK_SKEW_MS, NONCE_PATTERN, base64ToBytes, sha256Hex, signingString } from '../../protocol/signed-request.ts';

// Pure verification of a signed agent request (PROTOCOL.md "Signed agent requests").
// Replay is checked by the node's shard, which is the only place that remembers nonces.

export type SignatureFailure = 'missing_headers' | 'malformed_headers' | 'stale_request' | 'bad_signature';

export type SignatureCheck = { ok: true; nodeId: string; nonce: string; timestampMs: number } | { ok: false; reason: SignatureFailure };

export interface SignedRequestParts {
  method: string;
  pathWithQuery: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
  nowMs: number;
}

export async function verifyAgentSignature(req: SignedRequestParts): Promise<SignatureCheck> {
  const nodeId = req.headers.get(AGENT_HEADERS.node);
  const timestamp = req.headers.get(AGENT_HEADERS.timestamp);
  const nonce = req.headers.get(AGENT_HEADERS.nonce);
  const signature = req.headers.get(AGENT_HEADERS.signature);
  if (!nodeId || !timestamp || !nonce || !signature) return { ok: false, reason: 'missing_headers' };

  const publicKey = decodePublicKey(nodeId);
  const signatureBytes = base64ToBytes(signature);
  if (!publicKey || !signatureBytes || signatureBytes.length !== 64 || !NONCE_PATTERN.test(nonce) || !/^\d{1,16}$/.test(timestamp)) {
    return { ok: false, reason: 'malformed_headers' };
  }
  const timestampMs = Number(timestamp);
  if (Math.abs(req.nowMs - timestampMs) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'stale_request' };

  const message = signingString({
    method: req.method,
    pathWithQuery: req.pathWithQuery,
    timestampMs,
    nonce,
    bodySha256Hex: await sha256Hex(req.body),
  });
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  const valid = await crypto.subtle.verify('Ed25519', key, signatureBytes, new TextEncoder().encode(message));
  return valid ? { ok: true, nodeId, nonce, timestampMs } : { ok: false, reason: 'bad_signature' };
}

/** Exhaustive mapping from failure reasons to the protocol's wire errors. */
export function signatureFailureMessage(reason: SignatureFailure): { code: string; message: string } {
  switch (reason) {
    case 'missing_headers':
      return { code: 'bad_signature', message: 'This route needs a signed request; the X-Gridplane-* headers are missing.' };
    case 'malformed_headers':
      return { code: 'bad_signature', message: 'The X-Gridplane-* headers are malformed.' };
    case 'stale_request':
      return { code: 'stale_request', message: 'The request timestamp is more than 300 seconds from the server clock.' };
    case 'bad_signature':
      return { code: 'bad_signature', message: 'The signature does not match the node key and request.' };
  }
}
