import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { BUDGETS } from '../../workers/limits/rate-limit.ts';
import { errorOf, heartbeat, newAgent, registeredAgent, registration, signedRequest } from './helpers/agent.ts';
import { messageUpdate, WEBHOOK_SECRET } from './helpers/telegram.ts';
import { newWallet } from './helpers/wallet.ts';

// The rate limits through the real app and the real rate limiting bindings of wrangler.toml
// (miniflare's local implementation: a counter per key in fixed windows aligned to the clock).
// Each test counts under keys no other test uses (a fresh address, account or node), and each
// budget is measured whole: exactly `limit` requests pass, the next one is refused. A measure
// that straddles a window boundary (the counter restarts there) is taken again with fresh keys.

const ADMIN = 'test-admin-token-0123456789';
const LONG = 120_000;

const windowOf = (periodS: number) => Math.floor(Date.now() / (periodS * 1000));

/**
 * Runs `measure` (which makes its own fresh keys) again when a run, passing or failing, crossed a
 * window boundary; at most three runs. A run inside one window must pass.
 */
async function inOneWindow(periodS: number, measure: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const before = windowOf(periodS);
    try {
      await measure();
      return;
    } catch (error) {
      if (windowOf(periodS) === before || attempt === 2) throw error;
    }
  }
}

/** Sends until the first 429 (or `max` requests); every earlier answer must be `okStatus`. */
async function sendUntilLimited(
  send: () => Promise<Response>,
  okStatus: number,
  max: number,
): Promise<{ passed: number; refused: Response | null }> {
  for (let passed = 0; passed < max; passed++) {
    const res = await send();
    if (res.status === 429) return { passed, refused: res };
    expect(res.status, `request ${passed + 1}`).toBe(okStatus);
    await res.body?.cancel();
  }
  return { passed: max, refused: null };
}

let nextAddress = Math.floor(Math.random() * 200_000);
/** An IPv4 address no other test (or earlier run against the same local state) counts under. */
const freshIp = () => {
  const n = nextAddress++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

const from = (ip: string | null, path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  if (ip !== null) headers.set('CF-Connecting-IP', ip);
  return exports.default.fetch(new Request(`http://gridplane.test${path}`, { ...init, headers }));
};

/**
 * Spends `count` of a budget straight through its binding, under the key the app counts that
 * client under, so a test of a large budget sends only its last requests through the app. If the
 * app counted under another key, those requests would not be refused where the test expects.
 */
async function preSpend(budget: keyof typeof BUDGETS, key: string, count: number) {
  const binding = env[BUDGETS[budget].binding] as RateLimit;
  for (let i = 0; i < count; i++) expect((await binding.limit({ key })).success).toBe(true);
}

async function expectRateLimited(res: Response | null, periodS: number) {
  expect(res).not.toBeNull();
  expect(res!.headers.get('Retry-After')).toBe(String(periodS));
  expect(await errorOf(res!)).toMatchObject({ status: 429, code: 'rate_limited' });
}

async function devAccount(): Promise<{ accountId: string; apiKey: string }> {
  const res = await exports.default.fetch(
    new Request('http://gridplane.test/v1/dev/accounts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
  );
  expect(res.status).toBe(201);
  return res.json();
}

describe('unauthenticated requests: per client address', () => {
  const { limit, periodS } = BUDGETS.address;

  it('lets the budget through, then answers 429 with Retry-After and the error body; other addresses are unaffected', {
    timeout: LONG,
  }, async () => {
    await inOneWindow(periodS, async () => {
      const ip = freshIp();
      const run = await sendUntilLimited(() => from(ip, '/health'), 200, limit + 1);
      expect(run.passed).toBe(limit);
      await expectRateLimited(run.refused, periodS);
      expect((await from(freshIp(), '/health')).status).toBe(200);
    });
  });

  it('a refused request changes nothing: no sign-in challenge is stored', { timeout: LONG }, async () => {
    await inOneWindow(periodS, async () => {
      const wallet = await newWallet();
      const ip = freshIp();
      await sendUntilLimited(() => from(ip, '/v1/probes'), 200, limit + 1);
      const res = await from(ip, '/v1/auth/siws/challenge', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: wallet.address }),
      });
      await expectRateLimited(res, periodS);
      const stored = await env.DB.prepare('SELECT count(*) AS n FROM siws_nonces WHERE address = ?')
        .bind(wallet.address)
        .first<number>('n');
      expect(stored).toBe(0);
    });
  });

  it('counts IPv6 clients per /64', { timeout: LONG }, async () => {
    await inOneWindow(periodS, async () => {
      const n = nextAddress++;
      const net = `2001:db8:${(n & 0xffff).toString(16)}:${((n >> 16) & 0xffff).toString(16)}`;
      const run = await sendUntilLimited(() => from(`${net}::1`, '/health'), 200, limit + 1);
      expect(run.passed).toBe(limit);
      await expectRateLimited(await from(`${net}:0:0:0:abcd`, '/health'), periodS);
      expect((await from(`2001:db8:${(n & 0xffff).toString(16)}:ffff::1`, '/health')).status).toBe(200);
    });
  });

  it('does not count requests that carry no client address (not from the internet)', { timeout: LONG }, async () => {
    await inOneWindow(periodS, async () => {
      const run = await sendUntilLimited(() => from(null, '/health'), 200, limit + 1);
      expect(run.passed).toBe(limit + 1);
    });
  });

  it('does not limit the chat webhooks per address; admins with the token are not limited', { timeout: LONG }, async () => {
    await inOneWindow(periodS, async () => {
      const ip = freshIp();
      await sendUntilLimited(() => from(ip, '/health'), 200, limit + 1);
      await expectRateLimited(await from(ip, '/health'), periodS);
      const update = from(ip, '/telegram/webhook', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': WEBHOOK_SECRET },
        body: JSON.stringify(messageUpdate('/help')),
      });
      expect((await update).status).toBe(200);
      // An unsigned interaction is answered by the Discord route itself (here: not configured), not by the address's budget.
      const discord = await from(ip, '/discord/interactions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"type":1}',
      });
      expect((await errorOf(discord)).code).not.toBe('rate_limited');
      expect((await from(ip, '/v1/admin/shards', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
      await expectRateLimited(await from(ip, '/v1/admin/shards', { headers: { authorization: 'Bearer wrong-token-0123456789' } }), periodS);
    });
  });

  it('counts failed authentication (bad API keys, bad agent signatures) against the address', { timeout: LONG }, async () => {
    await inOneWindow(periodS, async () => {
      const ip = freshIp();
      const badKey = { headers: { authorization: `Bearer gpk_${'A'.repeat(43)}` } };
      const run = await sendUntilLimited(() => from(ip, '/v1/accounts/me', badKey), 401, limit + 1);
      expect(run.passed).toBe(limit);
      await expectRateLimited(run.refused, periodS);
      // A forged agent request from the same address is refused for the address, before its signature.
      const agent = await newAgent();
      const other = await newAgent();
      const forged = await signedRequest(agent.keyPair, agent.nodeId, 'POST', '/v1/nodes', registration(), { signWith: other.keyPair });
      forged.headers.set('CF-Connecting-IP', ip);
      await expectRateLimited(await exports.default.fetch(forged), periodS);
    });
  });
});

describe('authenticated requests: per account, not per address', () => {
  const { limit, periodS } = BUDGETS.account;

  it('an account gets its own budget, larger than an address; another account from the same address is unaffected', {
    timeout: LONG,
  }, async () => {
    await inOneWindow(periodS, async () => {
      const ip = freshIp();
      const a = await devAccount();
      const b = await devAccount();
      const key = (apiKey: string) => ({ headers: { authorization: `Bearer ${apiKey}` } });
      // More requests from one address than the address budget, all passing: they count per account.
      const fromApp = BUDGETS.address.limit + 20;
      await preSpend('account', `account:${a.accountId}`, limit - fromApp);
      const run = await sendUntilLimited(() => from(ip, '/v1/accounts/me/balance', key(a.apiKey)), 200, limit + 1);
      expect(run.passed).toBe(fromApp);
      await expectRateLimited(run.refused, periodS);
      expect((await from(ip, '/v1/accounts/me/balance', key(b.apiKey))).status).toBe(200);
    });
  });
});

describe('signed agent requests: per node', () => {
  it('heartbeats and registration share the node budget; job events have their own', { timeout: LONG }, async () => {
    const { limit, periodS } = BUDGETS.node;
    await inOneWindow(periodS, async () => {
      const agent = await registeredAgent();
      const path = `/v1/nodes/${agent.nodeId}/heartbeat`;
      // Registration took one request of the budget.
      const run = await sendUntilLimited(() => agent.send('POST', path, heartbeat()), 200, limit);
      expect(run.passed).toBe(limit - 1);
      await expectRateLimited(run.refused, periodS);
      // The node's job events are still answered (here: the job does not exist).
      const event = await agent.send('POST', `/v1/nodes/${agent.nodeId}/jobs/job_unknown/events`, { eventId: 'e1', kind: 'started' });
      expect(await errorOf(event)).toMatchObject({ status: 404, code: 'job_not_found' });
    });
  });

  it('a node that spends its job-event budget still gets its heartbeats through', { timeout: LONG }, async () => {
    const { limit, periodS } = BUDGETS.jobEvents;
    expect(limit / 60).toBeGreaterThanOrEqual(4 * 5); // five jobs logging every 250 ms
    await inOneWindow(periodS, async () => {
      const agent = await registeredAgent();
      const fromApp = 50;
      await preSpend('jobEvents', `node:${agent.nodeId}`, limit - fromApp);
      let n = 0;
      const run = await sendUntilLimited(
        () => agent.send('POST', `/v1/nodes/${agent.nodeId}/jobs/job_unknown/events`, { eventId: `e${n++}`, kind: 'started' }),
        404,
        limit + 1,
      );
      expect(run.passed).toBe(fromApp);
      await expectRateLimited(run.refused, periodS);
      expect((await agent.send('POST', `/v1/nodes/${agent.nodeId}/heartbeat`, heartbeat())).status).toBe(200);
    });
  });
});
