import { expireChallenges, issueRandomChallenges } from '../../verification/challenges.service.ts';
import type { CloseStep } from './close-exec.ts';
import { advance, guarded } from './close-steps.ts';

// Step `challenges`, the last: expired challenges fail; a random share of eligible nodes is
// challenged; the epoch is closed.

export const challenges: CloseStep = async (exec, config, { nowMs, alerts }, row) => {
  exec.charge(4 + 2);
  await expireChallenges(exec.db, config, nowMs, alerts);
  await issueRandomChallenges(exec.db, config, nowMs, 1000);
  await guarded(exec.batch(advance(exec, row, ', closed_at = ?6', [nowMs])));
};
