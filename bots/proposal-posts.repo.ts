// `proposal_posts`, the table both bots share for governance posts (one row per proposal and
// platform: where it was posted, which outcome was announced), and the only code that touches it.
// Each change is a claim: the row is inserted or moved on only by the one caller that wins, so a
// proposal is posted once and each outcome announced once however many crons or votes race.

import type { Db } from '../workers/app-env.ts';

export type ChatPlatform = 'discord' | 'telegram';

export interface ProposalPost {
  channelId: string;
  messageId: string | null;
  announced: string;
}

/** Claims the post of a new proposal; false when it is already posted (or being posted). */
export async function claimProposalPost(
  db: Db,
  proposalId: string,
  platform: ChatPlatform,
  channelId: string,
  status: string,
  nowMs: number,
): Promise<boolean> {
  const claimed = await db.$client
    .prepare(
      `INSERT INTO proposal_posts (proposal_id, platform, channel_id, message_id, announced_status, updated_at)
       VALUES (?1, ?2, ?3, NULL, ?4, ?5) ON CONFLICT DO NOTHING`,
    )
    .bind(proposalId, platform, channelId, status, nowMs)
    .run();
  return claimed.meta.changes === 1;
}

export async function recordPostedMessage(
  db: Db,
  proposalId: string,
  platform: ChatPlatform,
  messageId: string,
  nowMs: number,
): Promise<void> {
  await db.$client
    .prepare(`UPDATE proposal_posts SET message_id = ?3, updated_at = ?4 WHERE proposal_id = ?1 AND platform = ?2`)
    .bind(proposalId, platform, messageId, nowMs)
    .run();
}

export async function proposalPost(db: Db, proposalId: string, platform: ChatPlatform): Promise<ProposalPost | null> {
  return db.$client
    .prepare(
      `SELECT channel_id AS channelId, message_id AS messageId, announced_status AS announced
       FROM proposal_posts WHERE proposal_id = ?1 AND platform = ?2`,
    )
    .bind(proposalId, platform)
    .first<ProposalPost>();
}

/** Claims the announcement of `status`; false when it was already announced. */
export async function claimOutcome(db: Db, proposalId: string, platform: ChatPlatform, status: string, nowMs: number): Promise<boolean> {
  const claimed = await db.$client
    .prepare(
      `UPDATE proposal_posts SET announced_status = ?3, updated_at = ?4
       WHERE proposal_id = ?1 AND platform = ?2 AND announced_status <> ?3`,
    )
    .bind(proposalId, platform, status, nowMs)
    .run();
  return claimed.meta.changes === 1;
}
