import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { jsonInput } from '../http/validator.ts';
import { randomId } from '../lib/ids.ts';
import { encodeBase58 } from '../../protocol/base58.ts';
import { sha256Hex } from '../../protocol/signed-request.ts';
import { findOrCreateWalletAccount } from './accounts.repo.ts';
import { challengeSchema, verifySchema } from './account-input.schema.ts';
import { issueApiKey } from './api-keys.ts';
import { emitAlert } from '../alerts/emit-alert.ts';
import { chatUserLabel, consumeLinkToken, linkRefOf, usableLinkToken } from './links.ts';
import { buildSiwsMessage, LINK_RESOURCE_PREFIX, parseSiwsMessage } from './siws-message.ts';
import { checkSiwsFields, siwsError, verifySiwsSignature } from './siws-policy.ts';
import { consumeNonce, MAX_OUTSTANDING_CHALLENGES, storeChallenge } from './siws.repo.ts';

export const CHALLENGE_TTL_MS = 10 * 60 * 1000;

const sha256Text = (text: string) => sha256Hex(new TextEncoder().encode(text));

/** The domain messages are issued for and checked against: SIWS_DOMAIN, else the request's host. */
function siwsDomain(c: Context<AppEnv>): { domain: string; origin: string } {
  const configured = c.var.config.SIWS_DOMAIN;
  if (configured) return { domain: configured, origin: `https://${configured}` };
  const url = new URL(c.req.url);
  return { domain: url.host, origin: url.origin };
}

export const siwsApp = new Hono<AppEnv>()
  .post('/challenge', jsonInput(challengeSchema, { anyContentType: true }), async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    let link: Awaited<ReturnType<typeof usableLinkToken>> = null;
    if (body.linkToken !== undefined) {
      link = await usableLinkToken(c.var.db, body.linkToken, now);
      if (!link) throw siwsError('link_token_invalid');
    }
    const linkTokenHash = link?.tokenHash ?? null;
    const { domain, origin } = siwsDomain(c);
    const nonce = encodeBase58(crypto.getRandomValues(new Uint8Array(16)));
    const expiresAt = now + CHALLENGE_TTL_MS;
    const message = buildSiwsMessage({
      domain,
      address: body.address,
      // The wallet signs the name of the chat account it links: a forwarded link shows whose it is.
      statement: link
        ? `Sign in to gridplane and link ${chatUserLabel(link.platform, link.platformUserId, link.platformUserName)} to this wallet (confirmed in chat).`
        : 'Sign in to gridplane.',
      uri: origin,
      version: '1',
      chainId: c.var.config.solanaCluster,
      nonce,
      issuedAt: new Date(now).toISOString(),
      expirationTime: new Date(expiresAt).toISOString(),
      requestId: randomId('siws'),
      resources: body.linkToken !== undefined ? [`${LINK_RESOURCE_PREFIX}${body.linkToken}`] : undefined,
    });
    if (
      !(await storeChallenge(c.var.db, {
        nonce,
        address: body.address,
        messageHash: await sha256Text(message),
        linkTokenHash,
        issuedAt: now,
        expiresAt,
      }))
    ) {
      throw new AppError(
        429,
        'too_many_challenges',
        `This wallet has ${MAX_OUTSTANDING_CHALLENGES} sign-in challenges waiting; sign one of them, or ask again when they expire (10 minutes).`,
      );
    }
    return c.json({ message, nonce, expiresAt: new Date(expiresAt).toISOString() }, 201);
  })

  .post('/verify', jsonInput(verifySchema, { anyContentType: true }), async (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    const fields = parseSiwsMessage(body.message);
    if (!fields) throw siwsError('malformed_message');
    const failure = checkSiwsFields(fields, { domain: siwsDomain(c).domain, chainId: c.var.config.solanaCluster, nowMs: now });
    if (failure) throw siwsError(failure);
    if (!(await verifySiwsSignature(fields.address, body.message, body.signature))) throw siwsError('bad_signature');
    // The stored hash pins the exact text issued: any edit, even one the wallet re-signed, misses.
    const challenge = await consumeNonce(c.var.db, {
      nonce: fields.nonce!,
      address: fields.address,
      messageHash: await sha256Text(body.message),
      nowMs: now,
    });
    if (!challenge) throw siwsError('nonce_invalid');

    const account = await findOrCreateWalletAccount(c.var.db, fields.address, now);
    // The link waits for the chat user's Confirm in chat (links.ts): `confirmed: false`.
    let linked: { platform: string; platformUserId: string; platformUserName: string | null; confirmed: false } | null = null;
    if (challenge.linkTokenHash) {
      const used = await consumeLinkToken(c.var.db, challenge.linkTokenHash, account.id, now);
      if (!used) throw siwsError('link_token_invalid');
      linked = { ...used, confirmed: false };
      // The chat the /link came from hears that the wallet signed, with the Confirm button there,
      // so the person need not go back and press anything to find out (renter alerts, workers/alerts).
      await emitAlert(c.env, {
        eventId: `link_signed:${linkRefOf(challenge.linkTokenHash)}`,
        kind: 'link_signed',
        chatUser: { platform: used.platform, userId: used.platformUserId },
        at: now,
        data: {
          ref: linkRefOf(challenge.linkTokenHash),
          wallet: account.wallet,
          label: chatUserLabel(used.platform, used.platformUserId, used.platformUserName),
        },
      }).catch((error) => console.error('link_signed alert not emitted', error));
    }
    // Past the cap the least recently used key is revoked, never the sign-in refused (README, "API keys").
    const { apiKey, revokedPrefixes } = await issueApiKey(c.var.db, account.id, 'siws', {
      maxLive: c.var.config.API_KEYS_PER_ACCOUNT,
      nowMs: now,
    });
    return c.json({
      accountId: account.id,
      wallet: account.wallet,
      apiKey,
      created: account.created,
      linked,
      revokedApiKeys: revokedPrefixes,
    });
  });
