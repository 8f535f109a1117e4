import { InteractionResponseType, InteractionType, MessageFlags, Routes } from 'discord-api-types/v10';
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../../workers/app-env.ts';
import { AppError } from '../../workers/errors.ts';
import { parseJsonBytes, readRawBody, validate } from '../../workers/http/body.ts';
import { botOps } from '../core/bot-ops.ts';
import type { BotDeps } from '../core/command.ts';
import { actionSpec, autocomplete, findCommand, makeContext, runAction, runCommand } from '../core/dispatch.ts';
import { errorReply, type Reply } from '../core/reply.ts';
import { flattenOptions, interactionSchema, type Interaction } from './interaction.schema.ts';
import { renderDiscord } from './render.ts';
import { discordRest } from './rest.ts';
import { claimInteraction } from './discord.repo.ts';
import { verifyDiscordRequest } from './verify.ts';

// POST /discord/interactions, in the order Discord's own sample keeps: verify the Ed25519
// signature over timestamp + raw body (401 otherwise, stale included), answer PING, refuse an
// interaction id seen before, then dispatch. Slow work is acknowledged with a deferred response
// and completed through the REST API from waitUntil.

const SIGNATURE_ERRORS = {
  missing_signature: ['bad_signature', 'The request has no Discord signature headers.'],
  bad_signature: ['bad_signature', 'The Discord signature does not verify.'],
  stale_request: ['stale_request', 'The Discord signature timestamp is more than 5 minutes from our clock.'],
} as const;

export const discordApp = new Hono<AppEnv>().post('/interactions', async (c) => {
  const config = c.var.config;
  if (!config.DISCORD_PUBLIC_KEY)
    throw new AppError(503, 'discord_not_configured', 'The Discord bot is not configured on this deployment.');
  const raw = await readRawBody(c);
  const nowMs = Date.now();
  const verdict = await verifyDiscordRequest(
    config.DISCORD_PUBLIC_KEY,
    c.req.header('x-signature-ed25519'),
    c.req.header('x-signature-timestamp'),
    raw,
    nowMs,
  );
  if (!verdict.ok) {
    const [code, message] = SIGNATURE_ERRORS[verdict.reason];
    throw new AppError(401, code, message);
  }
  const interaction = validate(interactionSchema, parseJsonBytes(raw));
  if (interaction.type === InteractionType.Ping) return c.json({ type: InteractionResponseType.Pong });

  if (!(await claimInteraction(c.var.db, interaction.id, nowMs)))
    throw new AppError(401, 'replayed_request', 'This interaction was already handled.');

  const user = interaction.member?.user ?? interaction.user;
  if (!user) throw new AppError(400, 'invalid_request', 'The interaction names no user.');
  const adminIds = config.DISCORD_ADMIN_IDS.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const deps = botDeps(c);
  const base = {
    platform: 'discord' as const,
    user: { id: user.id, name: user.global_name ?? user.username },
    isAdmin: adminIds.includes(user.id),
    nowMs,
    eventId: `d${BigInt(interaction.id).toString(36)}`,
  };

  switch (interaction.type) {
    case InteractionType.ApplicationCommand: {
      const { path, values } = flattenOptions(interaction.data?.name ?? '', interaction.data?.options);
      const ctx = makeContext(deps, { ...base, options: values });
      const spec = findCommand(path);
      if (spec?.slow) {
        const ephemeral = spec.personal ?? false;
        deps.defer(complete(c, interaction, ephemeral, () => runCommand(path, ctx)));
        return c.json({
          type: InteractionResponseType.DeferredChannelMessageWithSource,
          data: { flags: ephemeral ? MessageFlags.Ephemeral : 0 },
        });
      }
      return c.json({ type: InteractionResponseType.ChannelMessageWithSource, data: renderDiscord(await runCommand(path, ctx)) });
    }
    case InteractionType.MessageComponent: {
      const id = interaction.data?.custom_id ?? '';
      const ctx = makeContext(deps, base);
      const spec = actionSpec(id);
      if (spec?.slow) {
        const ephemeral = spec.personal ?? true;
        deps.defer(complete(c, interaction, ephemeral, async () => (await runAction(id, ctx)).reply));
        return c.json({
          type: InteractionResponseType.DeferredChannelMessageWithSource,
          data: { flags: ephemeral ? MessageFlags.Ephemeral : 0 },
        });
      }
      return c.json({ type: InteractionResponseType.ChannelMessageWithSource, data: renderDiscord((await runAction(id, ctx)).reply) });
    }
    case InteractionType.ApplicationCommandAutocomplete: {
      const { path, values, focused } = flattenOptions(interaction.data?.name ?? '', interaction.data?.options);
      const ctx = makeContext(deps, { ...base, options: values });
      const choices = focused ? await autocomplete(path, focused.name, focused.value, ctx) : [];
      return c.json({ type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices } });
    }
    default:
      throw new AppError(400, 'unsupported_interaction', 'This kind of interaction is not supported.');
  }
});

function botDeps(c: Context<AppEnv>): BotDeps {
  const defer = (promise: Promise<unknown>) =>
    c.executionCtx.waitUntil(promise.catch((error) => console.error('discord: deferred work failed', error)));
  return {
    ops: botOps({ db: c.var.db, config: c.var.config, env: c.env, defer }),
    config: c.var.config,
    origin: c.var.config.PUBLIC_BASE_URL ?? new URL(c.req.url).origin,
    defer,
  };
}

/**
 * Finishes a deferred interaction: edits the "thinking…" message into the reply. An error reply
 * to a public deferral is not left in the channel: the placeholder is deleted and the error is
 * sent to the person alone.
 */
async function complete(
  c: Context<AppEnv>,
  interaction: Interaction,
  deferredEphemeral: boolean,
  work: () => Promise<Reply>,
): Promise<void> {
  const rest = discordRest(c.var.config);
  const appId = c.var.config.DISCORD_APPLICATION_ID ?? interaction.application_id;
  let result: Reply;
  try {
    result = await work();
  } catch (error) {
    console.error('discord: deferred command failed', error);
    result = errorReply('Something went wrong on our side; nothing was changed.');
  }
  const { flags: _flags, ...body } = renderDiscord(result);
  if (result.ephemeral && !deferredEphemeral) {
    await rest.delete(Routes.webhookMessage(appId, interaction.token, '@original'), { auth: false });
    await rest.post(Routes.webhook(appId, interaction.token), { body: { ...body, flags: MessageFlags.Ephemeral }, auth: false });
    return;
  }
  await rest.patch(Routes.webhookMessage(appId, interaction.token, '@original'), { body, auth: false });
}
