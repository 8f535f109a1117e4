// The named breaking edits `npm run mutate` applies, one at a time, to the code that guards money,
// agent and admin authentication, and the webhooks. Each names the exact text it replaces (which
// must occur exactly once in its file, so an edit that no longer applies is reported, never
// silently skipped) and the test files that must fail when it is applied. A mutation that leaves
// its tests green is a guarantee no test pins.

export type Suite = 'worker' | 'unit' | 'agent';

export interface Mutation {
  name: string;
  /** What the edit breaks, in a few words. */
  breaks: string;
  file: string;
  find: string;
  replace: string;
  suite: Suite;
  tests: string[];
}

export const MUTATIONS: Mutation[] = [
  // Agent authentication.
  {
    name: 'agent-nonce-unchecked',
    breaks: 'replay protection on signed agent routes outside the shard',
    file: 'workers/auth/agent-auth.ts',
    find: 'if (!fresh) throw replayed();',
    replace: 'if (false) throw replayed();',
    suite: 'worker',
    tests: ['test/worker/agent-replay.test.ts'],
  },
  {
    name: 'agent-signature-unchecked',
    breaks: 'the ed25519 signature on agent requests',
    file: 'workers/auth/agent-signature.ts',
    find: "if (!valid) return { ok: false, reason: 'bad_signature' };",
    replace: '',
    suite: 'worker',
    tests: ['test/worker/nodes-rejections.test.ts'],
  },
  {
    name: 'agent-acts-for-another-node',
    breaks: 'a node may only act for itself',
    file: 'workers/auth/agent-auth.ts',
    find: 'if (options.nodeParam && c.req.param(options.nodeParam) !== check.nodeId) {',
    replace: 'if (false) {',
    suite: 'worker',
    tests: ['test/worker/nodes-registry.test.ts', 'test/worker/staking-verification.test.ts'],
  },
  // Admin.
  {
    name: 'admin-any-token',
    breaks: 'the admin token comparison',
    file: 'workers/auth/admin-auth.ts',
    find: 'if (!expected || !token || !(await timingSafeEqualStrings(token, expected))) {',
    replace: 'if (!expected || !token) {',
    suite: 'worker',
    tests: ['test/worker/accounts-api.test.ts', 'test/worker/staking-api.test.ts', 'test/worker/nodes-rejections.test.ts'],
  },
  // Webhooks.
  {
    name: 'telegram-secret-unchecked',
    breaks: "the Telegram webhook's secret token",
    file: 'bots/telegram/telegram.app.ts',
    find: 'if (header === undefined || !(await timingSafeEqualStrings(header, settings.webhookSecret))) {',
    replace: 'if (header === undefined) {',
    suite: 'worker',
    tests: ['test/worker/telegram-webhook.test.ts'],
  },
  {
    name: 'telegram-update-handled-twice',
    breaks: 'one handling per Telegram update id',
    file: 'bots/telegram/telegram.app.ts',
    find: 'if (!(await claimUpdate(db, update.update_id, Date.now()))) return',
    replace: 'if (false) return',
    suite: 'worker',
    tests: ['test/worker/telegram-webhook.test.ts'],
  },
  {
    name: 'discord-signature-unchecked',
    breaks: "Discord's ed25519 request signature",
    file: 'bots/discord/verify.ts',
    find: "if (!valid) return { ok: false, reason: 'bad_signature' };",
    replace: '',
    suite: 'worker',
    tests: ['test/worker/discord-interactions.test.ts'],
  },
  {
    name: 'discord-stale-accepted',
    breaks: "the Discord request's timestamp window",
    file: 'bots/discord/verify.ts',
    find: 'if (Math.abs(nowMs - Number(timestamp) * 1000) > MAX_SKEW_MS)',
    replace: 'if (Math.abs(nowMs - Number(timestamp) * 1000) > MAX_SKEW_MS * 1000)',
    suite: 'worker',
    tests: ['test/worker/discord-interactions.test.ts'],
  },
  {
    name: 'discord-interaction-replayed',
    breaks: 'one handling per Discord interaction id',
    file: 'bots/discord/discord.app.ts',
    find: 'if (claim.meta.changes !== 1) throw',
    replace: 'if (false) throw',
    suite: 'worker',
    tests: ['test/worker/discord-interactions.test.ts'],
  },
  // Accounts.
  {
    name: 'revoked-api-key-accepted',
    breaks: 'API key revocation',
    file: 'workers/accounts/api-keys.ts',
    find: '.where(and(eq(apiKeys.hash, await hashApiKey(key)), isNull(apiKeys.revokedAt)))',
    replace: '.where(eq(apiKeys.hash, await hashApiKey(key)))',
    suite: 'worker',
    tests: ['test/worker/accounts-api.test.ts'],
  },
  {
    name: 'siws-nonce-reused',
    breaks: 'single-use sign-in nonces',
    file: 'workers/accounts/siws.repo.ts',
    find: 'isNull(siwsNonces.usedAt),',
    replace: '',
    suite: 'worker',
    tests: ['test/worker/accounts-siws.test.ts'],
  },
  // The ledger.
  {
    name: 'ledger-idempotency-conflict-ignored',
    breaks: 'a reused idempotency key with other parameters is refused',
    file: 'workers/ledger/ledger.repo.ts',
    find: 'if (row.paramsHash !== paramsHash) throw idempotencyConflict();',
    replace: '',
    suite: 'worker',
    tests: ['test/worker/ledger-core.test.ts'],
  },
  {
    name: 'ledger-unbalanced-accepted',
    breaks: 'double entry: every transaction sums to zero',
    file: 'workers/ledger/postings.ts',
    find: "if (sum !== 0n) return fail('unbalanced'",
    replace: "if (false) return fail('unbalanced'",
    suite: 'worker',
    tests: ['test/worker/ledger-core.test.ts', 'test/worker/ledger-property.test.ts'],
  },
  {
    name: 'ledger-negative-balance',
    breaks: 'balances never go negative (the CHECK on accounts.balance)',
    file: 'db/migrations/0001_ledger.sql',
    find: 'CHECK("accounts"."balance" >= 0 OR',
    replace: 'CHECK("accounts"."balance" >= -1000000000000000 OR',
    suite: 'worker',
    tests: ['test/worker/ledger-core.test.ts', 'test/worker/ledger-concurrency.test.ts'],
  },
  {
    name: 'ledger-mint-outside-mint',
    breaks: 'only mint transactions create tokens',
    file: 'workers/ledger/postings.ts',
    find: "return kind === 'mint' && amount < 0 ? null : 'system:emission is debited by mint transactions only';",
    replace: 'return null;',
    suite: 'worker',
    tests: ['test/worker/ledger-core.test.ts'],
  },
  // Jobs: escrow and the bill.
  {
    name: 'capture-beyond-escrow',
    breaks: 'a job never captures more than its escrow',
    file: 'workers/jobs/billing.ts',
    find: 'const captured = cost < escrow ? cost : escrow;',
    replace: 'const captured = cost;',
    suite: 'worker',
    tests: ['test/worker/jobs-escrow-cap.test.ts'],
  },
  {
    name: 'bill-beyond-bought',
    breaks: 'a job never bills more GPU-seconds than were bought or seen',
    file: 'workers/jobs/billing.ts',
    find: 'return Math.max(0, Math.min(claimed, observed, bought));',
    replace: 'return Math.max(0, claimed);',
    suite: 'worker',
    tests: ['test/worker/jobs-escrow-cap.test.ts'],
  },
  // Settlement on Solana.
  {
    name: 'payout-batch-cas-ignored',
    breaks: "a payout batch's state moves only from the state it was read in (compare-and-swap)",
    file: 'workers/settlement/payout-run.ts',
    find: 'WHERE id = ?10 AND attempt = ?11 AND state = ?12',
    replace: 'WHERE id = ?10',
    suite: 'worker',
    tests: ['test/worker/settlement-payouts.test.ts'],
  },
  {
    name: 'deposit-credited-per-scan',
    breaks: 'each deposit signature is credited once',
    file: 'workers/ledger/deposits.ts',
    find: 'idempotencyKey: `deposit:${deposit.signature}`,',
    replace: 'idempotencyKey: `deposit:${deposit.signature}:${Date.now()}:${Math.random()}`,',
    suite: 'worker',
    tests: ['test/worker/settlement-deposits.test.ts'],
  },
];
