import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Telegram updates already taken: Telegram re-sends an update until the webhook answers, so the
 * first request to claim an `update_id` handles it and every repeat is acknowledged untouched.
 * Rows older than a day are pruned by the cron (Telegram stops retrying long before).
 */
export const telegramUpdates = sqliteTable(
  'telegram_updates',
  {
    updateId: integer('update_id').primaryKey(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [index('telegram_updates_received_idx').on(t.receivedAt)],
);

/**
 * Server-side state of a guided flow (`/rent`). Callback data holds only the flow id and a step
 * token, because Telegram limits it to 64 bytes; `version` refuses a stale or doubled tap.
 */
export const telegramFlows = sqliteTable(
  'telegram_flows',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['rent'] }).notNull(),
    chatId: text('chat_id').notNull(),
    userId: text('user_id').notNull(),
    step: text('step').notNull(),
    /** JSON of the choices made so far. */
    state: text('state').notNull().default('{}'),
    version: integer('version').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('telegram_flows_user_idx').on(t.userId, t.kind), index('telegram_flows_expires_idx').on(t.expiresAt)],
);
