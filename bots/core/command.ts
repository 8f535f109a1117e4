import type { Config } from '../../workers/config.ts';
import type { BotOps } from './bot-ops.ts';
import type { Choice, Reply } from './reply.ts';

// Commands as data. A command says what it is called, what it takes and who may run it; its
// handler gets a platform-neutral context and returns a Reply. The Discord adapter builds slash
// command definitions from these specs; the Telegram adapter parses `/name arg …` against the
// same specs. Domain work goes through `ctx.ops` (bot-ops.ts): the service functions the HTTP
// routes call, bound to this request; a command never sees D1 or the env.

export type Platform = 'discord' | 'telegram';

export type OptionValue = string | number | boolean;

export interface OptionSpec {
  name: string;
  description: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  required?: boolean;
  /** A fixed list the platform offers as a menu. */
  choices?: readonly Choice[];
  /** Suggestions computed as the person types (GPU models, their nodes, open proposals). */
  autocomplete?: (ctx: BotContext, typed: string) => Promise<Choice[]>;
  min?: number;
  max?: number;
  maxLength?: number;
}

export interface CommandSpec {
  name: string;
  description: string;
  options?: readonly OptionSpec[];
  /** Sub-commands (`/proposal create|list|show`); a command has either these or a handler. */
  subcommands?: readonly CommandSpec[];
  /** Only people on the project's own admin allowlist (DISCORD_ADMIN_IDS …) may run it. */
  admin?: boolean;
  /** May take more than a moment: the adapter acknowledges first and completes with a follow-up. */
  slow?: boolean;
  /** The reply holds personal data: only the caller sees it, also while deferred. */
  personal?: boolean;
  run?: (ctx: BotContext) => Promise<Reply>;
}

/** A button press: `action` ids start with the spec's name (`vote:<proposal>:<choice>`). */
export interface ActionSpec {
  name: string;
  slow?: boolean;
  personal?: boolean;
  run: (ctx: BotContext, args: string[]) => Promise<ActionResult>;
}

export interface ActionResult {
  /** Shown to the presser. Shared messages (a proposal's live tally) are refreshed by the announcer. */
  reply: Reply;
}

export interface BotUser {
  /** The platform's user id (Discord snowflake, Telegram user id) as text. */
  id: string;
  name: string;
}

export interface BotDeps {
  /** The domain's operations, bound to this request (bot-ops.ts): commands reach D1 only through these. */
  ops: BotOps;
  config: Config;
  /** The Worker's public origin, for links (`/link?token=…`). */
  origin: string;
  defer(promise: Promise<unknown>): void;
}

export interface BotContext extends BotDeps {
  platform: Platform;
  user: BotUser;
  /** The adapter decided this from the platform's allowlist config, never from guild roles. */
  isAdmin: boolean;
  options: Readonly<Record<string, OptionValue | undefined>>;
  nowMs: number;
  /**
   * Names the platform event this run answers (`u<update>`/`f<flow>` on Telegram, `d<interaction>`
   * on Discord), short enough to ride in a button. Idempotency keys are built from it, never from
   * the clock: a platform retry of the same update (after a timeout, or a released claim) repeats
   * nothing.
   */
  eventId: string;
  /** The account linked to this chat user, or null. */
  linkedAccount(): Promise<string | null>;
  /** The linked account; replies "link first" (BotError) when there is none. */
  requireLinked(): Promise<string>;
}

/** A failure meant for the person: its message is shown as is, ephemerally. */
export class BotError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BotError';
  }
}
