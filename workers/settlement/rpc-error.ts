/**
 * Every way a Solana RPC call can fail, as one typed error. An upstream failure is a 502 for the
 * API (PROTOCOL.md "Errors"): routes map `publicCode`/`publicMessage` onto the wire and log the
 * rest. `kind` tells callers what is known about the call's effect:
 * - `timeout`/`network`: the request may or may not have reached the node (a sendTransaction may
 *   have been broadcast): never assume it did not happen.
 * - `http`/`bad_response`: the node answered something unusable.
 * - `rpc`: the node answered with a JSON-RPC error (`rpcCode`, e.g. -32002 preflight failure).
 */
export type SolanaRpcErrorKind = 'timeout' | 'network' | 'http' | 'bad_response' | 'rpc';

export class SolanaRpcError extends Error {
  readonly status = 502;
  readonly publicCode = 'solana_rpc_unavailable';
  readonly publicMessage = 'The Solana network could not be reached; try again shortly.';

  constructor(
    readonly kind: SolanaRpcErrorKind,
    readonly method: string,
    message: string,
    readonly rpcCode?: number,
    readonly data?: unknown,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${message}`, options);
    this.name = 'SolanaRpcError';
  }
}

/** JSON-RPC -32016: the answering node has not reached the request's `minContextSlot` (it lags). */
export const MIN_CONTEXT_SLOT_NOT_REACHED = -32016;

/** The RPC URL serves a different cluster than configured: settle nothing against it. */
export class WrongClusterError extends Error {
  readonly status = 502;
  readonly publicCode = 'solana_wrong_cluster';
  readonly publicMessage = 'Settlement is misconfigured; no funds were moved.';

  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`RPC serves genesis ${actual}, expected ${expected}`);
    this.name = 'WrongClusterError';
  }
}
