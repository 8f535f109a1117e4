import { AppError } from '../../workers/errors.ts';
import { ACTIONS, COMMANDS } from './commands/index.ts';
import {
  BotError,
  type ActionResult,
  type BotContext,
  type BotDeps,
  type BotUser,
  type CommandSpec,
  type OptionValue,
  type Platform,
} from './command.ts';
import { errorReply, parseAction, type Choice, type Reply, type ReplyButton } from './reply.ts';

// Runs commands, button actions and autocomplete for any platform, with one error boundary:
// a domain refusal (AppError) or a BotError becomes an ephemeral error reply with its message;
// anything else is logged and answered with a generic apology, never with internals.

export interface Invocation {
  platform: Platform;
  user: BotUser;
  isAdmin: boolean;
  options?: Record<string, OptionValue | undefined>;
  nowMs?: number;
  /** See BotContext.eventId: from the update, interaction or flow id. */
  eventId: string;
}

export function makeContext(deps: BotDeps, inv: Invocation): BotContext {
  let linked: Promise<string | null> | undefined;
  const linkedAccount = () => (linked ??= deps.ops.linkedAccount(inv.platform, inv.user.id));
  return {
    ...deps,
    platform: inv.platform,
    user: inv.user,
    isAdmin: inv.isAdmin,
    options: inv.options ?? {},
    nowMs: inv.nowMs ?? Date.now(),
    eventId: inv.eventId,
    linkedAccount,
    async requireLinked() {
      const account = await linkedAccount();
      if (!account)
        throw new BotError(
          'not_linked',
          'Link your wallet first: press Link my wallet (or send /link) and sign in with the wallet you stake and pay with.',
        );
      return account;
    },
  };
}

/** The `link:new` action: the same as sending /link (bots/core/commands/account.ts). */
export const LINK_BUTTON: ReplyButton = { kind: 'action', label: 'Link my wallet', action: 'link:new', style: 'primary' };

/** `['proposal', 'create']` → the leaf spec, or undefined. */
export function findCommand(path: readonly string[]): CommandSpec | undefined {
  let specs: readonly CommandSpec[] = COMMANDS;
  let found: CommandSpec | undefined;
  for (const name of path) {
    found = specs.find((s) => s.name === name);
    if (!found) return undefined;
    specs = found.subcommands ?? [];
  }
  return found?.run ? found : undefined;
}

/** Admin rights come from the top-level command or the leaf. */
export function isAdminCommand(path: readonly string[]): boolean {
  const top = COMMANDS.find((s) => s.name === path[0]);
  return Boolean(top?.admin || findCommand(path)?.admin);
}

export async function runCommand(path: readonly string[], ctx: BotContext): Promise<Reply> {
  const spec = findCommand(path);
  if (!spec?.run) return errorReply(`There is no command /${path.join(' ')}.`);
  if (isAdminCommand(path) && !ctx.isAdmin) return errorReply('Only gridplane admins can run this command.', 'Not allowed');
  return guard(
    () => spec.run!(ctx),
    (message, buttons) => ({ ...errorReply(message), ...(buttons ? { buttons } : {}) }),
  );
}

export async function runAction(id: string, ctx: BotContext): Promise<ActionResult> {
  const { name, args } = parseAction(id);
  const spec = ACTIONS.find((a) => a.name === name);
  if (!spec) return { reply: errorReply('This button is no longer supported.') };
  return guard(
    () => spec.run(ctx, args),
    (message, buttons) => ({ reply: { ...errorReply(message), ...(buttons ? { buttons } : {}) } }),
  );
}

export function actionSpec(id: string) {
  return ACTIONS.find((a) => a.name === parseAction(id).name);
}

export async function autocomplete(path: readonly string[], option: string, typed: string, ctx: BotContext): Promise<Choice[]> {
  const spec = findCommand(path);
  const opt = spec?.options?.find((o) => o.name === option);
  if (!opt?.autocomplete) return [];
  try {
    return (await opt.autocomplete(ctx, typed)).slice(0, 25);
  } catch (error) {
    console.error('bot autocomplete failed', path, option, error);
    return [];
  }
}

async function guard<T>(work: () => Promise<T>, onError: (message: string, buttons?: Reply['buttons']) => T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // "Link first" carries the button that starts the link, so nobody has to know the command.
    if (error instanceof BotError && error.code === 'not_linked') return onError(error.message, [LINK_BUTTON]);
    if (error instanceof BotError || error instanceof AppError) return onError(error.message);
    console.error('bot command failed', error);
    return onError('Something went wrong on our side; nothing was changed. Try again in a moment.');
  }
}
