import { h } from './html.ts';
import type { Document } from './layout.ts';

export function notFoundPage(what: string): Document {
  return {
    title: 'Not found · gridplane',
    description: `${what} was not found.`,
    body: h`<h1>Not found</h1><p>${what} was not found on this network. It may never have registered here.</p><p><a href="/">Back to the explorer</a></p>`,
  };
}
