import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { COMPOSED_HANDLER } from 'hono/utils/constants';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import type { Env } from '../env.ts';
import { addressKey } from './client-address.ts';

// Request budgets on Cloudflare's rate limiting binding (wrangler.toml [[ratelimits]]): one
// namespace per budget, each counting per key over a fixed period. Who is counted under which key:
//
// - a request that authenticates itself (API key, agent signature, admin token) is counted by
//   its authentication middleware, after it succeeds: per account, per node, admins not at all;
//   when authentication fails, the attempt counts against the client's address instead;
// - every other request is counted per client address here, before any route runs;
// - endpoint URLs (/e/…, workers/gateway/) count per endpoint key (per endpoint and address on a
//   public endpoint) in a budget of their own; a missing or wrong key counts per address;
// - Telegram's and Discord's webhooks are not counted per address: they come from a few of the
//   platforms' addresses, carry secrets checked before anything is read or written, and a 429
//   would drop real updates (Discord does not retry an interaction).

export type Budget = 'address' | 'account' | 'node' | 'jobEvents' | 'endpointKey';

/** Each budget's binding and its period; the limit itself is the binding's (wrangler.toml). */
export const BUDGETS: Record<Budget, { binding: keyof Env & `RATE_LIMIT_${string}`; periodS: number; limit: number }> = {
  address: { binding: 'RATE_LIMIT_ADDRESS', periodS: 60, limit: 300 },
  account: { binding: 'RATE_LIMIT_ACCOUNT', periodS: 60, limit: 600 },
  node: { binding: 'RATE_LIMIT_NODE', periodS: 60, limit: 120 },
  jobEvents: { binding: 'RATE_LIMIT_JOB_EVENTS', periodS: 60, limit: 1200 },
  endpointKey: { binding: 'RATE_LIMIT_ENDPOINT_KEY', periodS: 60, limit: 3000 },
};

const WHO: Record<Budget, string> = {
  address: 'from this address',
  account: 'for this account',
  node: 'from this node',
  jobEvents: 'of job events from this node',
  endpointKey: 'to this endpoint with this key (or, on a public endpoint, from this address)',
};

/** Webhooks authenticated by the platforms' secrets (see above). */
const WEBHOOKS = new Set(['POST /telegram/webhook', 'POST /discord/interactions']);

const AUTHENTICATES = Symbol('authenticates');

/** Marks a middleware that authenticates the request and counts it under its own key. */
export function authenticating<M extends MiddlewareHandler<AppEnv>>(middleware: M): M {
  (middleware as unknown as Record<symbol, boolean>)[AUTHENTICATES] = true;
  return middleware;
}

function isAuthenticating(handler: unknown): boolean {
  const inner = (handler as Record<string, unknown>)[COMPOSED_HANDLER] ?? handler;
  return typeof inner === 'function' && (inner as unknown as Record<symbol, boolean>)[AUTHENTICATES] === true;
}

/**
 * Counts one request under `key` in `budget`; throws 429 rate_limited (with Retry-After) when
 * the budget is spent. Counted once per request and budget, however many middlewares ask.
 * A failing binding lets the request through: limits protect capacity, they are not a gate.
 */
export async function spend(c: Context<AppEnv>, budget: Budget, key: string): Promise<void> {
  const spent = c.get('rateLimited') ?? new Set<string>();
  if (spent.has(budget)) return;
  spent.add(budget);
  c.set('rateLimited', spent);
  const { binding, periodS } = BUDGETS[budget];
  let success = true;
  try {
    ({ success } = await (c.env[binding] as RateLimit).limit({ key }));
  } catch (error) {
    console.error('rate limit binding failed', binding, error);
  }
  if (!success) {
    throw new AppError(429, 'rate_limited', `Too many requests ${WHO[budget]}; try again in ${periodS} seconds.`, undefined, {
      'Retry-After': String(periodS),
    });
  }
}

/** Counts the request against its client address; requests with no address (see client-address.ts) are not counted. */
export async function spendAddress(c: Context<AppEnv>): Promise<void> {
  const key = addressKey(c.req.header('cf-connecting-ip'));
  if (key !== null) await spend(c, 'address', key);
}

/** App-wide, first: every request no authentication middleware or webhook takes is counted per address. */
export const limitUnauthenticated = createMiddleware<AppEnv>(async (c, next) => {
  const route = `${c.req.method} ${new URL(c.req.url).pathname}`;
  if (!WEBHOOKS.has(route) && !matchedRoutes(c).some((r) => isAuthenticating(r.handler))) await spendAddress(c);
  await next();
});
