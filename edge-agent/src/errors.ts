/**
 * The one error type the agent raises on purpose. `code` is stable and machine-readable,
 * `message` is one sentence for the operator; the CLI prints both and exits non-zero.
 */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
