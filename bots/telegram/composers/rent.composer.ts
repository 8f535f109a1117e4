import { Composer } from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import { REGIONS } from '../../core/commands/rent.ts';
import { LINK_BUTTON, runCommand } from '../../core/dispatch.ts';
import { errorReply } from '../../core/reply.ts';
import { callbackData, splitCallback } from '../callback-data.ts';
import { chatIdOf, userIdOf, type TelegramContext } from '../context.ts';
import { coreContext } from '../core-context.ts';
import { renderReply } from '../render.ts';
import type { FlowRow } from '../telegram.repo.ts';
import { advance, gpuOptions, nothingToRent, previous, stepView, type RentState, type RentStep } from '../rent/rent-flow.ts';

// /rent as a guided flow: GPU → count → hours → where, then the shared layer's quote with its
// Confirm button (the shared `rent` action places the job). Callback data is
// `rf:<flow id>:<version>:<choice>`, always far under Telegram's 64 bytes.

const NS = 'rf';
const regionKeys = Object.keys(REGIONS);

export const rentComposer = new Composer<TelegramContext>();

rentComposer.command('rent', async (ctx) => {
  // The link first, before the first tap: renting needs a linked wallet, and finding out after
  // four choices is a dead end. The answer carries the button that starts the link.
  if (!(await coreContext(ctx).linkedAccount())) {
    const message = renderReply({
      ...errorReply(
        'Link your wallet first: renting pays from your gridplane balance. Press Link my wallet, sign in with your wallet, then send /rent again.',
        'Link your wallet to rent',
      ),
      buttons: [LINK_BUTTON],
    });
    await ctx.reply(message.text, {
      parse_mode: message.parse_mode,
      reply_markup: message.reply_markup,
      link_preview_options: message.link_preview_options,
    });
    return;
  }
  const first = await firstStep(ctx);
  await ctx.reply(first.text, first.options);
});

/**
 * The first step, from what can be rented now: the models some node can take a job on, or, when
 * there is none, why, with a button that looks again (`rf:again`).
 */
async function firstStep(ctx: TelegramContext) {
  const rentable = await ctx.deps.ops.rentableNow();
  const state: RentState = gpuOptions(rentable.models);
  if (state.gpuOptions.length === 0) {
    const message = renderReply({
      title: 'Nothing to rent right now',
      blocks: [nothingToRent(rentable), '/nodes lists the online nodes. Press Check again in a while.'],
      buttons: [{ kind: 'action', label: 'Check again', action: `${NS}:again` }],
      ephemeral: true,
      tone: 'warning',
    });
    return { text: message.text, options: { parse_mode: message.parse_mode, reply_markup: message.reply_markup } };
  }
  const flow = await ctx.deps.repo.createRentFlow(chatIdOf(ctx), userIdOf(ctx), state, Date.now());
  const view = stepView('gpu', state, REGIONS);
  return {
    text: view.text,
    options: {
      reply_markup: {
        inline_keyboard: keyboard(
          flow,
          view.choices.map((c) => c.label),
          'gpu',
        ),
      },
    },
  };
}

rentComposer.callbackQuery(new RegExp(`^${NS}:`), async (ctx) => {
  const [, id = '', versionText = '', choice = ''] = splitCallback(ctx.callbackQuery.data);
  const { repo } = ctx.deps;
  const now = Date.now();
  if (id === 'again') {
    await ctx.answerCallbackQuery();
    const first = await firstStep(ctx);
    await ctx.editMessageText(first.text, { ...first.options, reply_markup: first.options.reply_markup ?? { inline_keyboard: [] } });
    return;
  }
  const flow = await repo.getFlow(id, now);
  if (!flow || flow.userId !== userIdOf(ctx)) {
    await ctx.answerCallbackQuery({ text: 'This rental has expired; send /rent to start again.' });
    return;
  }
  if (String(flow.version) !== versionText) {
    await ctx.answerCallbackQuery({ text: 'Already chosen.' });
    return;
  }
  if (choice === 'x') {
    await repo.endFlow(flow.id);
    await ctx.answerCallbackQuery();
    await ctx.editMessageText('Rental cancelled; nothing was held.');
    return;
  }
  const moved =
    choice === 'b'
      ? { ok: true as const, step: previous(flow.step), state: flow.state }
      : advance(flow.step, flow.state, Number.parseInt(choice, 36), regionKeys);
  if (!moved.ok || !(await repo.moveFlow(flow, moved.step, moved.state, now))) {
    await ctx.answerCallbackQuery({ text: moved.ok ? 'Already chosen.' : 'That choice is not on the list.' });
    return;
  }
  await ctx.answerCallbackQuery();
  const next: FlowRow = { ...flow, step: moved.step, state: moved.state, version: flow.version + 1 };
  if (next.step !== 'quote') {
    const view = stepView(next.step, next.state, REGIONS);
    await ctx.editMessageText(view.text, {
      reply_markup: {
        inline_keyboard: keyboard(
          next,
          view.choices.map((c) => c.label),
          next.step,
        ),
      },
    });
    return;
  }
  // The quote is the shared layer's: same ranking, same Confirm action as on Discord.
  const { gpu, count, hours, region } = next.state;
  // The quote's Confirm carries the flow's id: one flow rents at most once, however often it is shown.
  const reply = await runCommand(['rent'], coreContext(ctx, { gpu, count, hours, region }, `f${flow.id}`));
  if (!reply.buttons?.some((b) => b.kind === 'action')) {
    // No offer (the node filled up since the menu was built, or the balance is short): the flow
    // stays, with the way back to choose again.
    const message = renderReply({ ...reply, blocks: [...reply.blocks, 'Go back to choose fewer GPUs or another time, or cancel.'] });
    await ctx.editMessageText(message.text, {
      parse_mode: message.parse_mode,
      reply_markup: { inline_keyboard: keyboard(next, [], 'quote') },
      link_preview_options: message.link_preview_options,
    });
    return;
  }
  const message = renderReply(reply);
  await repo.endFlow(flow.id);
  await ctx.editMessageText(message.text, {
    parse_mode: message.parse_mode,
    reply_markup: message.reply_markup ?? { inline_keyboard: [] },
    link_preview_options: message.link_preview_options,
  });
});

function keyboard(flow: FlowRow, labels: string[], step: RentStep): InlineKeyboardButton[][] {
  const perRow = step === 'where' || step === 'gpu' ? 2 : 4;
  const buttons = labels.map((text, i) => ({ text, callback_data: callbackData(NS, flow.id, flow.version, i.toString(36)) }));
  const rows: InlineKeyboardButton[][] = [];
  for (let i = 0; i < buttons.length; i += perRow) rows.push(buttons.slice(i, i + perRow));
  const controls: InlineKeyboardButton[] = [];
  if (step !== 'gpu') controls.push({ text: '◀ Back', callback_data: callbackData(NS, flow.id, flow.version, 'b') });
  controls.push({ text: '✖ Cancel', callback_data: callbackData(NS, flow.id, flow.version, 'x') });
  rows.push(controls);
  return rows;
}
