import * as z from 'zod';
import { ALERT_KINDS, type AlertKind } from '../../db/schema/alerts.ts';

export { ALERT_KINDS, type AlertKind };

/**
 * One thing an operator may want to hear about. `eventId` is the emitter's stable id for the
 * happening itself (`job_failed:<jobId>:<attempt>`, `slash:<txId>`…): emitting the same id twice
 * alerts once. `nodeId` reaches the node's subscribers and its owner's "all my nodes"
 * subscriptions; `accountId` reaches every chat subscribed by that account.
 */
export const alertEventSchema = z
  .object({
    eventId: z.string().min(1).max(200),
    kind: z.enum(ALERT_KINDS),
    nodeId: z.string().min(1).max(100).optional(),
    accountId: z.string().min(1).max(100).optional(),
    /** One chat user, linked or not (a wallet sign-in answering their /link): reached in their private chat. */
    chatUser: z.object({ platform: z.enum(['telegram', 'discord']), userId: z.string().regex(/^[0-9]{1,25}$/) }).optional(),
    /** Unix ms when it happened (not when it was emitted). */
    at: z.number().int().nonnegative(),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .refine(
    (e) => e.nodeId !== undefined || e.accountId !== undefined || e.chatUser !== undefined,
    'an alert needs a nodeId or an accountId (or, for a renter alert, a chatUser)',
  );

/**
 * What happens to a renter's own jobs, endpoints, deposits and links. They reach every chat linked to the
 * account (or the one chat user named), with no /alerts subscription: a person who rents from a
 * chat hears back in it.
 */
export const RENTER_KINDS: readonly AlertKind[] = [
  'job_started',
  'job_ending',
  'job_finished',
  'deposit_credited',
  'link_signed',
  'endpoint_balance_low',
  'endpoint_stopped',
  'rental_ending',
  'rental_ended',
];
export const isRenterKind = (kind: AlertKind) => RENTER_KINDS.includes(kind);

/** The outbox name of a chat user's private chat: Telegram's is the user id, Discord's a DM. */
export const privateChatId = (platform: 'telegram' | 'discord', userId: string) => (platform === 'telegram' ? userId : `discord:${userId}`);

export type AlertEvent = z.input<typeof alertEventSchema>;
export type ParsedAlertEvent = z.output<typeof alertEventSchema>;

/** What a chat's delivery object keeps of an alert: the event plus a readable node name. */
export interface ChatAlert {
  eventId: string;
  kind: AlertKind;
  nodeId: string | null;
  nodeName: string | null;
  at: number;
  data: Record<string, unknown>;
}

/** Per-chat delivery preferences, as stored in `alert_prefs`. */
export interface ChatPrefs {
  mutedKinds: AlertKind[];
  quietStartMin: number | null;
  quietEndMin: number | null;
  timeZone: string;
}

export const DEFAULT_PREFS: ChatPrefs = { mutedKinds: [], quietStartMin: null, quietEndMin: null, timeZone: 'UTC' };
