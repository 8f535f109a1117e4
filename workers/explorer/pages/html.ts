import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

// Hono's `html` escapes every interpolated string (node names, models, anything a user sent) and
// passes fragments made with it through untouched. Pages here load their data first and render
// synchronously, so no promise is ever interpolated; `h` states that in its type.

export type Html = HtmlEscapedString;

export const h = html as (strings: TemplateStringsArray, ...values: unknown[]) => Html;

/** Markup this code wrote itself (the generated map, CSS, the inline script); never user data. */
export const trusted = (text: string): Html => raw(text);
