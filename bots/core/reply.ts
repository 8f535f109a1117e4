// The platform-neutral reply model. A command handler returns one of these; each adapter
// (bots/discord/render.ts, the Telegram bot's renderer) turns it into its platform's message.
// Nothing here knows about embeds, inline keyboards or markdown dialects: text is plain, and
// emphasis is expressed by structure (title, fields), which every platform can show.

export type Tone = 'info' | 'success' | 'warning' | 'error';

export interface ReplyField {
  name: string;
  value: string;
  /** A hint that short fields may sit side by side. */
  inline?: boolean;
}

/** A button that calls back into the bot: `action` is `<action name>:<arg>:<arg>…` (≤ 64 bytes, Telegram's limit). */
export interface ActionButton {
  kind: 'action';
  label: string;
  action: string;
  style?: 'primary' | 'secondary' | 'success' | 'danger';
  disabled?: boolean;
}

export interface LinkButton {
  kind: 'link';
  label: string;
  url: string;
}

export type ReplyButton = ActionButton | LinkButton;

export interface Reply {
  title?: string;
  /** Paragraphs of plain text. */
  blocks: string[];
  fields?: ReplyField[];
  /** One row of buttons; adapters may wrap. */
  buttons?: ReplyButton[];
  /** Only the person who asked sees it (personal data, errors). */
  ephemeral: boolean;
  tone?: Tone;
  footer?: string;
  /** A picture shown with the reply (a deposit's QR code): a PNG and the words that say what it is. */
  image?: ReplyImage;
}

export interface ReplyImage {
  png: Uint8Array;
  filename: string;
  caption: string;
  /** Where the same picture is served, for platforms that show images by URL (a Discord embed). */
  url?: string;
}

export interface Choice {
  name: string;
  value: string;
}

export const reply = (parts: Omit<Reply, 'ephemeral'> & { ephemeral?: boolean }): Reply => ({ ephemeral: false, ...parts });

export const privateReply = (parts: Omit<Reply, 'ephemeral'>): Reply => ({ ...parts, ephemeral: true });

export const errorReply = (message: string, title = 'That did not work'): Reply => ({
  title,
  blocks: [message],
  ephemeral: true,
  tone: 'error',
});

export const MAX_ACTION_BYTES = 64;

export function action(name: string, ...args: string[]): string {
  const id = [name, ...args].join(':');
  if (new TextEncoder().encode(id).length > MAX_ACTION_BYTES) throw new RangeError(`action id too long: ${id}`);
  return id;
}

export function parseAction(id: string): { name: string; args: string[] } {
  const [name = '', ...args] = id.split(':');
  return { name, args };
}
