import type { Ports } from '../workers/ports.ts';
import { announceProposal } from './announce.ts';
import { pruneTelegramState } from './telegram/update-claims.ts';

// The bots' side of the domain's ports (workers/ports.ts), handed in by the entry points
// (workers/app.ts, workers/index.ts): the domain reaches the chats only through these.
export const botPorts: Ports = {
  announceProposal,
  pruneChatState: pruneTelegramState,
};
