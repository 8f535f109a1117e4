import { sha256Hex } from '../../protocol/signed-request.ts';
import type { Db } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { randomSecret } from '../lib/ids.ts';

// Endpoint keys: what a caller of /e/{endpointId}/… sends (Authorization: Bearer, or
// x-gridplane-key). `gpe_` + 43 base64url characters (256 random bits), shown once at creation;
// only the SHA-256 is stored (a random key needs no slow hash). The gateway compares hashes from
// its isolate cache (workers/gateway/gateway.app.ts): both sides hash with hashEndpointKey.

export const ENDPOINT_KEY_PATTERN = /^gpe_[A-Za-z0-9_-]{43}$/;
/** What lists show and DELETE takes: `gpe_` and the key's next 8 characters (48 random bits). */
export const ENDPOINT_KEY_ID_PATTERN = /^gpe_[A-Za-z0-9_-]{8}$/;
const PREFIX_LENGTH = 12;
/**
 * Live keys per endpoint at most: the gateway keeps every live hash of an endpoint in each
 * isolate's cache and the routing entry reads them in one query, so the set stays small.
 */
export const MAX_LIVE_KEYS = 20;

export const hashEndpointKey = (key: string): Promise<string> => sha256Hex(new TextEncoder().encode(key));

export interface EndpointKeyRow {
  prefix: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

/** A new key, in one statement that also enforces the live-key cap (racing creates cannot pass it). */
export async function issueEndpointKey(
  db: Db,
  endpointId: string,
  name: string,
  nowMs: number,
): Promise<{ key: string; row: EndpointKeyRow }> {
  const key = `gpe_${randomSecret(32)}`;
  const prefix = key.slice(0, PREFIX_LENGTH);
  const inserted = await db.$client
    .prepare(
      `INSERT INTO endpoint_keys (hash, endpoint_id, prefix, name, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM endpoint_keys WHERE endpoint_id = ?2 AND revoked_at IS NULL) < ?6`,
    )
    .bind(await hashEndpointKey(key), endpointId, prefix, name, nowMs, MAX_LIVE_KEYS)
    .run();
  if (inserted.meta.changes === 0) {
    throw new AppError(409, 'too_many_keys', `This endpoint has ${MAX_LIVE_KEYS} live keys, the most it may have; revoke one first.`);
  }
  return { key, row: { prefix, name, createdAt: nowMs, revokedAt: null } };
}

/** The endpoint's live keys, oldest first (never the keys themselves). */
export async function liveEndpointKeys(db: Db, endpointId: string): Promise<EndpointKeyRow[]> {
  const rows = await db.$client
    .prepare(
      'SELECT prefix, name, created_at AS createdAt, revoked_at AS revokedAt FROM endpoint_keys WHERE endpoint_id = ?1 AND revoked_at IS NULL ORDER BY created_at, prefix',
    )
    .bind(endpointId)
    .all<EndpointKeyRow>();
  return rows.results;
}

/**
 * Revokes one live key. The gateway stops taking it when its isolates next refresh the endpoint's
 * entry (about every 2 s, workers/gateway/README.md).
 */
export async function revokeEndpointKey(db: Db, endpointId: string, prefix: string, nowMs: number): Promise<EndpointKeyRow> {
  const row = await db.$client
    .prepare(
      `UPDATE endpoint_keys SET revoked_at = ?3 WHERE endpoint_id = ?1 AND prefix = ?2 AND revoked_at IS NULL
       RETURNING prefix, name, created_at AS createdAt, revoked_at AS revokedAt`,
    )
    .bind(endpointId, prefix, nowMs)
    .first<EndpointKeyRow>();
  if (!row) throw new AppError(404, 'key_not_found', 'This endpoint has no live key with that id.');
  return row;
}
