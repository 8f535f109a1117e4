import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import * as z from 'zod';
import type { AppEnv } from '../app-env.ts';
import { findOrCreateWalletAccount } from '../accounts/accounts.repo.ts';
import { issueApiKey } from '../accounts/api-keys.ts';
import { createLinkToken } from '../accounts/links.ts';
import { LINK_PLATFORMS } from '../../db/schema.ts';
import { badRequest, noRoute } from '../errors.ts';
import { parseJsonBytes, readRawBody } from '../http/body.ts';
import { jsonInput } from '../http/validator.ts';
import { formatAmount, parseAmount } from '../lib/amounts.ts';
import { encodeBase58 } from '../../protocol/base58.ts';
import { requestIdempotencyKey } from '../ledger/idempotency.ts';
import { isUserAccountId, SYSTEM_ACCOUNTS } from '../ledger/ledger-accounts.ts';
import { postTransaction } from '../ledger/ledger.repo.ts';

// Development and test helpers (PROTOCOL.md "Development mode"). In production these routes do
// not exist: they answer exactly what an unknown route answers.

const MAX_FAUCET_TOKENS = 1_000_000n;

const faucetSchema = z.strictObject({
  accountId: z.string().refine(isUserAccountId, 'must be a user account id (acc_…)'),
  amount: z.string().max(40),
});

const linkTokenSchema = z.strictObject({
  platform: z.enum(LINK_PLATFORMS),
  userId: z.string().regex(/^[0-9]{1,25}$/, 'must be a chat user id (digits)'),
});

// The account always gets a fresh wallet, named in the answer: that wallet is what a node's
// --owner must be for the account to stake on it. Nothing else is taken, and a field sent anyway
// is refused rather than ignored (an ignored `wallet` once left a newcomer with an account that
// could not stake on their node). Taking a caller's wallet instead would let anyone on a shared
// non-production deployment hold the API key of the account a stranger's node earns into.
// Input: no body, or a JSON object with no fields.
async function devAccountInput(c: Context<AppEnv>): Promise<void> {
  const bytes = await readRawBody(c);
  if (bytes.byteLength === 0) return;
  const body = parseJsonBytes(bytes);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('invalid_request', 'body: must be a JSON object with no fields, or empty.');
  const field = Object.keys(body)[0];
  if (field === 'wallet') {
    throw badRequest(
      'invalid_request',
      'wallet: not taken; the account gets a new wallet, named in the answer: give that wallet to the agent as --owner.',
    );
  }
  if (field !== undefined) throw badRequest('invalid_request', `${field.slice(0, 40)}: unknown field; this route takes no input.`);
}

// Minting from nothing is for a developer's own machine only: `test` (and any other
// environment) has no faucet, so tests fund accounts through the ledger, and no deployment
// can be talked into printing money by a mis-set ENVIRONMENT other than `development`.
// Checked before the body: elsewhere the route does not exist, whatever is sent.
const faucetEnvironment = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.config.ENVIRONMENT !== 'development') throw noRoute(c.req.method, new URL(c.req.url).pathname);
  await next();
});

export const devApp = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (!c.var.config.isDevelopment) throw noRoute(c.req.method, new URL(c.req.url).pathname);
    await next();
  })

  .post('/accounts', async (c) => {
    await devAccountInput(c);
    const wallet = encodeBase58(crypto.getRandomValues(new Uint8Array(32)));
    const account = await findOrCreateWalletAccount(c.var.db, wallet);
    const { apiKey } = await issueApiKey(c.var.db, account.id, 'dev', { maxLive: c.var.config.API_KEYS_PER_ACCOUNT });
    return c.json({ accountId: account.id, apiKey, wallet }, 201);
  })

  // What a bot's /link command does, for tests of the wallet page: a token and the page's URL.
  .post('/link-tokens', jsonInput(linkTokenSchema, { anyContentType: true }), async (c) => {
    const body = c.req.valid('json');
    const { token, expiresAt } = await createLinkToken(c.var.db, body.platform, body.userId);
    const url = `${new URL(c.req.url).origin}/link?token=${encodeURIComponent(token)}`;
    return c.json({ token, expiresAt: new Date(expiresAt).toISOString(), url }, 201);
  })

  .post('/faucet', faucetEnvironment, jsonInput(faucetSchema, { anyContentType: true }), async (c) => {
    const body = c.req.valid('json');
    const decimals = c.var.config.TOKEN_DECIMALS;
    const amount = parseAmount(body.amount, decimals);
    if (!amount.ok) throw badRequest('invalid_request', `amount: ${amount.reason}.`);
    if (amount.baseUnits <= 0 || BigInt(amount.baseUnits) > MAX_FAUCET_TOKENS * 10n ** BigInt(decimals)) {
      throw badRequest('invalid_request', `amount: must be more than 0 and at most ${MAX_FAUCET_TOKENS} tokens.`);
    }
    const { key } = requestIdempotencyKey(c, 'faucet');
    const tx = await postTransaction(c.var.db, {
      kind: 'mint',
      idempotencyKey: key,
      entries: [
        { account: SYSTEM_ACCOUNTS.emission, amount: -amount.baseUnits },
        { account: body.accountId, amount: amount.baseUnits },
      ],
      memo: 'development faucet',
    });
    if (tx.replayed) c.header('Idempotent-Replayed', 'true');
    const credited = tx.entries.find((e) => e.account === body.accountId)!;
    return c.json(
      {
        transactionId: tx.id,
        accountId: body.accountId,
        amount: formatAmount(credited.amount, decimals),
        balanceAfter: formatAmount(credited.balanceAfter, decimals),
      },
      tx.replayed ? 200 : 201,
    );
  });
