import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Every ledger account, users' and the system's, with its balance. The balance lives on the
 * account row so one CHECK can see both the balance and the kind: only `external` accounts (the
 * ledger's boundaries with the outside world, `system:treasury` and `system:emission`) may go
 * below zero, and SQLite refuses any statement that would take another account there, which
 * aborts the whole D1 batch it is in. Balances are written only by the ledger_entries trigger
 * (see db/migrations/*_ledger_triggers.sql and workers/ledger/README.md).
 *
 * Ids: users `acc_<hex>`; system accounts `system:<name>`; per-job escrow `escrow:<jobId>`.
 */
export const accounts = sqliteTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['user', 'system', 'external', 'escrow'] }).notNull(),
    /** The Solana wallet (base58) that signs in as this account; users only. */
    wallet: text('wallet').unique(),
    /** Base units of the token. */
    balance: integer('balance').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    check('accounts_balance_non_negative', sql`${t.balance} >= 0 OR ${t.kind} = 'external'`),
    check('accounts_wallet_iff_user', sql`(${t.kind} = 'user') = (${t.wallet} IS NOT NULL)`),
  ],
);

/** API keys for `Authorization: Bearer`; only the SHA-256 of a key is stored. */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    /** Lower-case hex SHA-256 of the whole key. */
    hash: text('hash').primaryKey(),
    /** The first characters of the key, to tell keys apart in a list. */
    prefix: text('prefix').notNull(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    /** How the key was issued: 'siws' or 'dev'. */
    origin: text('origin', { enum: ['siws', 'dev'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    /** Updated at most once an hour per key, so authentication is not a write per request. */
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_keys_account_idx').on(t.accountId)],
);

/** Sign-In With Solana challenges. A nonce is consumed once, by a conditional UPDATE … RETURNING. */
export const siwsNonces = sqliteTable(
  'siws_nonces',
  {
    nonce: text('nonce').primaryKey(),
    address: text('address').notNull(),
    /** SHA-256 of the exact message issued: the wallet must sign these bytes and no others. */
    messageHash: text('message_hash').notNull(),
    linkTokenHash: text('link_token_hash'),
    issuedAt: integer('issued_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [
    index('siws_nonces_expires_idx').on(t.expiresAt),
    // The per-wallet cap on outstanding challenges counts a wallet's unexpired rows.
    index('siws_nonces_address_idx').on(t.address, t.expiresAt),
  ],
);

export const LINK_PLATFORMS = ['telegram', 'discord'] as const;
export type LinkPlatform = (typeof LINK_PLATFORMS)[number];

/** A chat user linked to an account; one account may have several, a chat user has one. */
export const accountLinks = sqliteTable(
  'account_links',
  {
    platform: text('platform', { enum: LINK_PLATFORMS }).notNull(),
    platformUserId: text('platform_user_id').notNull(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    linkedAt: integer('linked_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.platform, t.platformUserId] }), index('account_links_account_idx').on(t.accountId)],
);

/** One-time tokens a bot hands a chat user; signing in with one links that user (see siws.app.ts). */
export const linkTokens = sqliteTable(
  'link_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    platform: text('platform', { enum: LINK_PLATFORMS }).notNull(),
    platformUserId: text('platform_user_id').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** The chat user's handle when the bot issued the token (`@name`, or a display name): the page and the sign-in statement name it. */
    platformUserName: text('platform_user_name'),
    /** Set by the sign-in that used the token: the link then waits for the chat user's confirmation in chat. */
    usedAt: integer('used_at'),
    usedByAccountId: text('used_by_account_id'),
    /** The chat user pressed Confirm in chat: account_links was written in the same batch. */
    confirmedAt: integer('confirmed_at'),
    /** The chat user pressed Cancel: the sign-in never links. */
    cancelledAt: integer('cancelled_at'),
  },
  (t) => [index('link_tokens_expires_idx').on(t.expiresAt)],
);
