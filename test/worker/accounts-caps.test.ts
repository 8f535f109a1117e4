import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_OUTSTANDING_CHALLENGES } from '../../workers/accounts/siws.repo.ts';
import { errorOf } from './helpers/agent.ts';
import { challenge, newWallet, postJson, signIn } from './helpers/wallet.ts';

// Caps on what one wallet can make the sign-in store: outstanding challenges per wallet.

const rows = async (address: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM siws_nonces WHERE address = ?').bind(address).first<number>('n'))!;

describe('outstanding sign-in challenges per wallet', () => {
  it(`issues ${MAX_OUTSTANDING_CHALLENGES} unanswered challenges for a wallet, then refuses with 429 and stores nothing`, async () => {
    const wallet = await newWallet();
    for (let i = 0; i < MAX_OUTSTANDING_CHALLENGES; i++) await challenge(wallet);
    const refused = await postJson('/v1/auth/siws/challenge', { address: wallet.address });
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'too_many_challenges' });
    expect(await rows(wallet.address)).toBe(MAX_OUTSTANDING_CHALLENGES);
    // Another wallet is unaffected.
    expect((await postJson('/v1/auth/siws/challenge', { address: (await newWallet()).address })).status).toBe(201);
  });

  it('an answered challenge no longer counts', async () => {
    const wallet = await newWallet();
    for (let i = 0; i < MAX_OUTSTANDING_CHALLENGES - 1; i++) await challenge(wallet);
    await signIn(wallet);
    expect((await postJson('/v1/auth/siws/challenge', { address: wallet.address })).status).toBe(201);
  });

  it('expired challenges no longer count, and are pruned', async () => {
    const wallet = await newWallet();
    for (let i = 0; i < MAX_OUTSTANDING_CHALLENGES; i++) await challenge(wallet);
    // Age them past their expiry, as ten minutes would.
    await env.DB.prepare('UPDATE siws_nonces SET issued_at = issued_at - 3600000, expires_at = expires_at - 3600000 WHERE address = ?')
      .bind(wallet.address)
      .run();
    expect((await postJson('/v1/auth/siws/challenge', { address: wallet.address })).status).toBe(201);
    expect(await rows(wallet.address)).toBe(1);
  });
});
