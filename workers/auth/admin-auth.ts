import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { AppError } from '../errors.ts';
import { authenticating, spendAddress } from '../limits/rate-limit.ts';
import { timingSafeEqualStrings } from '../lib/timing-safe.ts';

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`; with no ADMIN_TOKEN configured every admin call fails.
 * The operator's own calls are not rate-limited; a failed attempt counts against the address.
 */
export const requireAdmin = authenticating(
  createMiddleware<AppEnv>(async (c, next) => {
    const expected = c.env.ADMIN_TOKEN;
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!expected || !token || !(await timingSafeEqualStrings(token, expected))) {
      await spendAddress(c);
      throw new AppError(401, 'unauthorized', 'An admin token is required for this route.');
    }
    await next();
  }),
);
