// The signed-request scheme of PROTOCOL.md, shared by the Worker (verifier) and the edge agent
// (signer) so the two can never disagree on the bytes that are signed.

export const SIGNATURE_SCHEME = 'gridplane-v1';
export const MAX_CLOCK_SKEW_MS = 300_000;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export const AGENT_HEADERS = {
  node: 'X-Gridplane-Node',
  timestamp: 'X-Gridplane-Timestamp',
  nonce: 'X-Gridplane-Nonce',
  signature: 'X-Gridplane-Signature',
} as const;

export interface SigningInput {
  method: string;
  /** Path with query string, exactly as sent. */
  pathWithQuery: string;
  timestampMs: number;
  nonce: string;
  bodySha256Hex: string;
}

export function signingString(input: SigningInput): string {
  return [
    SIGNATURE_SCHEME,
    input.method.toUpperCase(),
    input.pathWithQuery,
    String(input.timestampMs),
    input.nonce,
    input.bodySha256Hex,
  ].join('\n');
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Bodies are never backed by a SharedArrayBuffer; the cast only narrows the buffer type.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Strict standard base64; returns null on anything else. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}
