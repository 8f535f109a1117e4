// Discord's request signature: Ed25519 over the X-Signature-Timestamp header's bytes followed by
// the raw body, checked with the application's public key (hex). Pure apart from WebCrypto; the
// route calls this before it parses anything.

export const MAX_SKEW_MS = 5 * 60 * 1000;

export type VerifyFailure = 'missing_signature' | 'bad_signature' | 'stale_request';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

const keyCache = new Map<string, Promise<CryptoKey>>();

function importKey(publicKeyHex: string): Promise<CryptoKey> {
  let key = keyCache.get(publicKeyHex);
  if (!key) {
    key = crypto.subtle.importKey('raw', hexBytes(publicKeyHex)!, { name: 'Ed25519' }, false, ['verify']);
    keyCache.set(publicKeyHex, key);
  }
  return key;
}

export async function verifyDiscordRequest(
  publicKeyHex: string,
  signatureHex: string | undefined,
  timestamp: string | undefined,
  body: Uint8Array,
  nowMs: number,
): Promise<VerifyResult> {
  if (!signatureHex || !timestamp) return { ok: false, reason: 'missing_signature' };
  const signature = hexBytes(signatureHex);
  if (signature?.length !== 64 || !/^[0-9]{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_signature' };
  const stamp = new TextEncoder().encode(timestamp);
  const message = new Uint8Array(stamp.length + body.length);
  message.set(stamp, 0);
  message.set(body, stamp.length);
  const valid = await crypto.subtle.verify('Ed25519', await importKey(publicKeyHex), signature, message);
  if (!valid) return { ok: false, reason: 'bad_signature' };
  // Checked after the signature, so the timestamp judged is one Discord really sent.
  if (Math.abs(nowMs - Number(timestamp) * 1000) > MAX_SKEW_MS) return { ok: false, reason: 'stale_request' };
  return { ok: true };
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
