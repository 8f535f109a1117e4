// Pure: where a command may run. Group chats get read-only commands; anything that moves money,
// reveals a secret (link tokens, deposit references) or changes settings runs in private only.

export type ChatType = 'private' | 'group' | 'supergroup' | 'channel';

/** Commands that only work in a private chat with the bot. Everything else is read-only. */
export const PRIVATE_ONLY = new Set([
  'link',
  'deposit',
  'withdraw',
  'rent',
  'cancel',
  'stake',
  'unstake',
  'delegate',
  'vote',
  'propose',
  'proposal',
  'alerts',
  'subscribe',
  'unsubscribe',
  'quiet',
  'mute',
  'unmute',
]);

export type PolicyDecision = { allowed: true } | { allowed: false; reason: 'private_only' | 'channel' };

export function commandAllowed(command: string, chatType: ChatType): PolicyDecision {
  if (chatType === 'channel') return { allowed: false, reason: 'channel' };
  if (chatType !== 'private' && PRIVATE_ONLY.has(command)) return { allowed: false, reason: 'private_only' };
  return { allowed: true };
}

/** Buttons too: a press in a group never moves money, whatever the button says. */
export function actionAllowed(actionName: string, chatType: ChatType): PolicyDecision {
  return commandAllowed(actionName, chatType);
}
