import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Discord interactions already taken, by interaction id: the first request to insert an id
 * handles it and a replayed delivery (same id, still validly signed and fresh) is refused.
 * Rows older than a day are pruned by the governance cron tick; a replay that old fails the
 * 5-minute timestamp check anyway.
 */
export const discordInteractions = sqliteTable(
  'discord_interactions',
  {
    id: text('id').primaryKey(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [index('discord_interactions_received_idx').on(t.receivedAt)],
);
