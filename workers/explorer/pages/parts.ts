import { h, type Html } from './html.ts';

// Small pieces shared by the pages.

export function section(id: string, title: string, body: Html): Html {
  return h`<section class="panel" id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>${body}</section>`;
}

/** A plain sentence for a panel whose data does not exist yet. */
export const notYet = (text: string): Html => h`<p class="empty">${text}</p>`;

/** Wide tables scroll inside their own focusable region on a phone instead of the whole page. */
export function scrollTable(label: string, table: Html): Html {
  return h`<div class="scroll" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

export const simulatedTag = (simulated: boolean): Html | null => (simulated ? h`<span class="tag sim">simulated</span>` : null);

export function statusTag(status: string): Html {
  return h`<span class="tag status-${status === 'online' ? 'online' : 'offline'}">${status}</span>`;
}
