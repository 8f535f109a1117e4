// Telegram limits callback_data to 1–64 bytes. Shared-layer buttons already carry compact
// action ids (`vote:12:yes`); the bot's own flows use `<ns>:<flowId>:<version>:<choice>` with a
// short random flow id whose state lives in D1 (telegram_flows), so no choice ever needs more.

export const MAX_CALLBACK_BYTES = 64;

const encoder = new TextEncoder();

export function callbackData(...parts: (string | number)[]): string {
  const data = parts.join(':');
  const bytes = encoder.encode(data).length;
  if (bytes === 0 || bytes > MAX_CALLBACK_BYTES) throw new RangeError(`callback data must be 1–64 bytes, got ${bytes}: ${data}`);
  return data;
}

export function fitsCallback(data: string): boolean {
  const bytes = encoder.encode(data).length;
  return bytes > 0 && bytes <= MAX_CALLBACK_BYTES;
}

export function splitCallback(data: string): string[] {
  return data.split(':');
}

/** 10 characters of [0-9a-z]: about 51 bits, plenty for flows that live 30 minutes. */
export function shortId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let id = '';
  for (const b of bytes) id += '0123456789abcdefghijklmnopqrstuvwxyz'[b % 36];
  return id;
}
