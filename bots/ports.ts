import type { Ports } from '../workers/ports.ts';
import { announceProposal } from './announce.ts';
import { pruneDiscordState } from './discord/discord.repo.ts';
import { pruneTelegramState } from './telegram/telegram.repo.ts';

// The bots' side of the domain's ports (workers/ports.ts), handed in by the entry points
// (workers/app.ts, workers/index.ts): the domain reaches the chats only through these.
export const botPorts: Ports = {
  announceProposal,
  async pruneChatState(db, nowMs) {
    await pruneTelegramState(db, nowMs);
    await pruneDiscordState(db, nowMs);
  },
};
