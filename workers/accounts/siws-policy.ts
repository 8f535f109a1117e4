import { AppError } from '../errors.ts';
import { decodeBase58, decodePublicKey } from '../../protocol/base58.ts';
import { base64ToBytes } from '../../protocol/signed-request.ts';
import type { SiwsFields } from './siws-message.ts';

// What makes a signed SIWS message acceptable, kept apart from storage and HTTP so it can be read
// (and audited) in one place. Failures are tagged reasons mapped to wire errors by one switch.

export type SiwsFailure =
  | 'malformed_message'
  | 'wrong_domain'
  | 'wrong_uri'
  | 'wrong_chain'
  | 'wrong_version'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'nonce_invalid'
  | 'link_token_invalid';

export interface SiwsExpectation {
  domain: string;
  chainId: string;
  nowMs: number;
}

/** Tolerated clock difference for Issued At / Not Before (the wallet's clock may run ahead). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The message's own claims, before any signature or storage is looked at. */
export function checkSiwsFields(m: SiwsFields, expected: SiwsExpectation): SiwsFailure | null {
  if (!decodePublicKey(m.address) || !m.nonce || !m.issuedAt || !m.expirationTime || !m.uri) return 'malformed_message';
  if (m.domain !== expected.domain) return 'wrong_domain';
  if (hostOf(m.uri) !== expected.domain) return 'wrong_uri';
  if (m.version !== '1') return 'wrong_version';
  if (m.chainId !== expected.chainId) return 'wrong_chain';
  const issuedAt = parseTime(m.issuedAt);
  const expiresAt = parseTime(m.expirationTime);
  const notBefore = m.notBefore === undefined ? null : parseTime(m.notBefore);
  if (issuedAt === null || expiresAt === null || (m.notBefore !== undefined && notBefore === null)) return 'malformed_message';
  if (expiresAt <= expected.nowMs) return 'expired';
  if (issuedAt > expected.nowMs + MAX_CLOCK_SKEW_MS) return 'not_yet_valid';
  if (notBefore !== null && notBefore > expected.nowMs + MAX_CLOCK_SKEW_MS) return 'not_yet_valid';
  return null;
}

/**
 * Verifies the ed25519 signature of the wallet over the UTF-8 message. Wallets hand signatures
 * out as base58 (Solana's habit) or base64 (bytes from `signMessage` sent as JSON): both are
 * accepted, and each reading of the text that gives 64 bytes is tried.
 */
export async function verifySiwsSignature(address: string, message: string, signature: string): Promise<boolean> {
  const publicKey = decodePublicKey(address);
  if (!publicKey || signature.length > 200) return false;
  const candidates = [decodeBase58(signature), base64ToBytes(signature)].filter((b) => b?.length === 64) as Uint8Array[];
  if (candidates.length === 0) return false;
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  const bytes = new TextEncoder().encode(message);
  for (const candidate of candidates) {
    if (await crypto.subtle.verify('Ed25519', key, candidate, bytes)) return true;
  }
  return false;
}

export function siwsError(reason: SiwsFailure): AppError {
  switch (reason) {
    case 'malformed_message':
      return new AppError(400, 'invalid_message', 'The message is not a Sign-In With Solana message as issued by /v1/auth/siws/challenge.');
    case 'wrong_domain':
      return new AppError(401, 'wrong_domain', 'The message was issued for another domain.');
    case 'wrong_uri':
      return new AppError(401, 'wrong_domain', 'The message URI points at another domain.');
    case 'wrong_chain':
      return new AppError(401, 'wrong_chain', 'The message names another Solana cluster.');
    case 'wrong_version':
      return new AppError(400, 'invalid_message', 'Only version 1 sign-in messages are accepted.');
    case 'expired':
      return new AppError(401, 'message_expired', 'The sign-in message has expired; ask for a new challenge.');
    case 'not_yet_valid':
      return new AppError(401, 'message_not_yet_valid', 'The sign-in message is not valid yet.');
    case 'bad_signature':
      return new AppError(401, 'bad_signature', 'The signature does not match the wallet and the message.');
    case 'nonce_invalid':
      return new AppError(401, 'nonce_invalid', 'This challenge is unknown, already used, expired, or was changed after it was issued.');
    case 'link_token_invalid':
      return new AppError(409, 'link_token_invalid', 'The link token is unknown, used or expired; ask the bot for a new link.');
  }
}

function parseTime(text: string): number | null {
  // ISO 8601 with a time zone, as toISOString() writes it.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

function hostOf(uri: string): string | null {
  try {
    return new URL(uri).host;
  } catch {
    return null;
  }
}
