import { Composer } from 'grammy';
import type { TelegramContext } from '../context.ts';

/** The guided /rent flow (filled in by rent/). */
export const rentComposer = new Composer<TelegramContext>();
