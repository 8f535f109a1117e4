import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { accounts } from './accounts.ts';

/** What operators can be alerted about (workers/alerts/alert-kinds.ts describes each). */
export const ALERT_KINDS = [
  'node_offline',
  'node_online',
  'gpu_hot',
  'verification_failed',
  'job_failed',
  'slashed',
  'reward_paid',
  'stake_low',
  'payout_refunded',
  'node_suspended',
  // The renter's own: they reach the chats linked to the account, no /alerts needed (recipients.repo.ts).
  'job_started',
  'job_ending',
  'job_finished',
  'deposit_credited',
  'link_signed',
  'endpoint_balance_low', // the endpoint's hold and balance run low: replicas stop when they run out
  'endpoint_stopped', // replicas stopped (balance ran out, or a rental's time was up)
  'rental_ending', // a template rental (an endpoint with stop_at) ends soon; carries Extend buttons
  'rental_ended', // a template rental's time was up: the cron stopped it
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Every alert event the queue consumer has seen, keyed by the emitter's event id: a repeat of an
 * id (the queue is at-least-once, emitters retry) is recognised here. `fannedOutAt` is set once
 * every subscribed chat's delivery object holds the alert, so a consumer that died half-way
 * fans out again and the per-chat objects drop what they already have.
 */
export const alertEvents = sqliteTable(
  'alert_events',
  {
    eventId: text('event_id').primaryKey(),
    kind: text('kind', { enum: ALERT_KINDS }).notNull(),
    nodeId: text('node_id'),
    accountId: text('account_id'),
    at: integer('at').notNull(),
    /** JSON: kind-specific details (job id, amount in base units, temperature…). */
    data: text('data').notNull().default('{}'),
    receivedAt: integer('received_at').notNull(),
    fannedOutAt: integer('fanned_out_at'),
    recipients: integer('recipients').notNull().default(0),
  },
  (t) => [index('alert_events_node_idx').on(t.nodeId, t.at), index('alert_events_account_idx').on(t.accountId, t.at)],
);

/**
 * A chat following a node (`scope` = node id) or all nodes of the linked account (`scope` = '*').
 * Account-wide events (payouts, slashes of the account's stake) reach every chat of the account.
 */
export const alertSubscriptions = sqliteTable(
  'alert_subscriptions',
  {
    chatId: text('chat_id').notNull(),
    scope: text('scope').notNull(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chatId, t.scope] }),
    index('alert_subscriptions_scope_idx').on(t.scope),
    index('alert_subscriptions_account_idx').on(t.accountId),
  ],
);

/** Per-chat delivery preferences: kinds turned off and quiet hours in the chat's own time zone. */
export const alertPrefs = sqliteTable('alert_prefs', {
  chatId: text('chat_id').primaryKey(),
  /** JSON array of AlertKind the chat does not want. */
  mutedKinds: text('muted_kinds').notNull().default('[]'),
  /** Minutes after local midnight; both null when there are no quiet hours. */
  quietStartMin: integer('quiet_start_min'),
  quietEndMin: integer('quiet_end_min'),
  /** IANA time zone ('Europe/Berlin') or 'UTC'. */
  timeZone: text('time_zone').notNull().default('UTC'),
  updatedAt: integer('updated_at').notNull(),
});

/** Positions of the alert pumps, e.g. the last `node_events.id` turned into alerts. */
export const alertCursors = sqliteTable('alert_cursors', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
