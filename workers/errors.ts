import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The one error type. `code` and `message` go on the wire (PROTOCOL.md "Errors");
 * `internal` is logged and never sent.
 */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly internal?: unknown,
    /** Response headers the error needs, e.g. Retry-After on a 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

export const badRequest = (code: string, message: string) => new AppError(400, code, message);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found.`);
export const noRoute = (method: string, path: string) => new AppError(404, 'not_found', `There is no route ${method} ${path}.`);
