import type { z } from 'zod';
import { SolanaRpcError } from './rpc-error.ts';
import {
  blockHeightSchema,
  epochInfoSchema,
  genesisHashSchema,
  latestBlockhashSchema,
  maybeTransactionSchema,
  multipleAccountsSchema,
  rpcEnvelopeSchema,
  signaturesForAddressSchema,
  signatureSchema,
  signatureStatusesSchema,
  type AccountInfo,
  type Commitment,
  type RpcTransaction,
  type SignatureInfo,
  type SignatureStatus,
} from './rpc-schemas.ts';

// A deliberately small JSON-RPC client: plain `fetch` + AbortSignal, so it runs unchanged in
// workerd (no websockets, no Node APIs) and in Node tests. Kit's own RPC client would work too,
// but it pulls websocket subscriptions and `events` into the bundle and does not validate
// responses; every response here goes through a zod schema.

export interface RpcClientOptions {
  url: string;
  /** Per-call deadline; a call that takes longer fails with kind `timeout`. */
  timeoutMs?: number;
  /** Injected for tests and for service bindings; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface SendOptions {
  /** Default false: let the node simulate first, so a doomed payout is refused before it costs fees. */
  skipPreflight?: boolean;
  preflightCommitment?: Commitment;
  /** Default 0: we re-broadcast ourselves (see payout-state.ts) instead of trusting the node's retry loop. */
  maxRetries?: number;
  timeoutMs?: number;
}

export interface SolanaRpc {
  readonly url: string;
  /** Cached after the first answer: a cluster's genesis never changes. */
  getGenesisHash(): Promise<string>;
  getLatestBlockhash(commitment?: Commitment): Promise<{ blockhash: string; lastValidBlockHeight: number; slot: number }>;
  getBlockHeight(commitment?: Commitment): Promise<number>;
  /**
   * The slot and block height of one bank at `commitment`. `minContextSlot`: the node must have
   * reached that slot, or it answers -32016 (a lagging backend behind a load balancer).
   */
  getEpochInfo(commitment?: Commitment, minContextSlot?: number): Promise<{ slot: number; blockHeight: number }>;
  getSignaturesForAddress(
    address: string,
    options?: { limit?: number; before?: string; until?: string; commitment?: Exclude<Commitment, 'processed'> },
  ): Promise<SignatureInfo[]>;
  getTransaction(signature: string, commitment?: Exclude<Commitment, 'processed'>): Promise<RpcTransaction | null>;
  /** Takes the base64 wire transaction; returns its signature as the node reports it. */
  sendTransaction(wireBase64: string, options?: SendOptions): Promise<string>;
  getSignatureStatuses(signatures: string[]): Promise<(SignatureStatus | null)[]>;
  /**
   * The statuses with the answering node's context slot: a status read from a node behind the
   * slot of a block is no evidence about that block. `minContextSlot` is sent too (nodes that
   * honour it refuse with -32016 instead of answering from behind); the slot is checked anyway.
   */
  getSignatureStatusesAt(
    signatures: string[],
    minContextSlot?: number,
  ): Promise<{ contextSlot: number; statuses: (SignatureStatus | null)[] }>;
  getMultipleAccounts(addresses: string[], commitment?: Commitment): Promise<(AccountInfo | null)[]>;
}

export function createRpcClient(options: RpcClientOptions): SolanaRpc {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const defaultTimeout = options.timeoutMs ?? 10_000;
  let nextId = 1;
  let genesis: string | undefined;

  async function call<T extends z.ZodType>(method: string, params: unknown[], schema: T, timeoutMs = defaultTimeout): Promise<z.infer<T>> {
    let response: Response;
    try {
      response = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw fetchFailure(method, error, timeoutMs);
    }
    let body: unknown;
    try {
      // Reading the body is still under the same AbortSignal, so a stalled body times out too.
      body = await response.json();
    } catch (error) {
      if (!response.ok) throw new SolanaRpcError('http', method, `HTTP ${response.status}`, undefined, undefined, { cause: error });
      if (error instanceof SyntaxError)
        throw new SolanaRpcError('bad_response', method, 'response is not JSON', undefined, undefined, { cause: error });
      throw fetchFailure(method, error, timeoutMs, 'response body was cut off');
    }
    const envelope = rpcEnvelopeSchema.safeParse(body);
    if (!envelope.success) {
      if (!response.ok) throw new SolanaRpcError('http', method, `HTTP ${response.status}`);
      throw new SolanaRpcError('bad_response', method, 'not a JSON-RPC 2.0 response', undefined, body);
    }
    if ('error' in envelope.data) {
      const { code, message, data } = envelope.data.error;
      throw new SolanaRpcError('rpc', method, message, code, data);
    }
    const result = schema.safeParse(envelope.data.result);
    if (!result.success) {
      throw new SolanaRpcError(
        'bad_response',
        method,
        result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        undefined,
        envelope.data.result,
      );
    }
    return result.data;
  }

  async function statusesAt(signatures: string[], minContextSlot?: number) {
    // searchTransactionHistory: the recent status cache alone cannot prove a signature absent.
    const config = { searchTransactionHistory: true, ...(minContextSlot === undefined ? {} : { minContextSlot }) };
    const r = await call('getSignatureStatuses', [signatures, config], signatureStatusesSchema);
    if (r.value.length !== signatures.length) {
      throw new SolanaRpcError('bad_response', 'getSignatureStatuses', 'wrong number of statuses');
    }
    return { contextSlot: r.context.slot, statuses: r.value };
  }

  return {
    url: options.url,
    async getGenesisHash() {
      genesis ??= await call('getGenesisHash', [], genesisHashSchema);
      return genesis;
    },
    async getLatestBlockhash(commitment = 'confirmed') {
      const r = await call('getLatestBlockhash', [{ commitment }], latestBlockhashSchema);
      return { ...r.value, slot: r.context.slot };
    },
    getBlockHeight(commitment = 'finalized') {
      return call('getBlockHeight', [{ commitment }], blockHeightSchema);
    },
    getSignaturesForAddress(address, o = {}) {
      const config = { commitment: o.commitment ?? 'finalized', limit: o.limit, before: o.before, until: o.until };
      return call('getSignaturesForAddress', [address, config], signaturesForAddressSchema);
    },
    getTransaction(signature, commitment = 'finalized') {
      // maxSupportedTransactionVersion 0: otherwise a depositor's v0 transaction is an RPC error.
      const config = { encoding: 'json', commitment, maxSupportedTransactionVersion: 0 };
      return call('getTransaction', [signature, config], maybeTransactionSchema);
    },
    sendTransaction(wireBase64, o = {}) {
      const config = {
        encoding: 'base64',
        skipPreflight: o.skipPreflight ?? false,
        preflightCommitment: o.preflightCommitment ?? 'confirmed',
        maxRetries: o.maxRetries ?? 0,
      };
      return call('sendTransaction', [wireBase64, config], signatureSchema, o.timeoutMs);
    },
    async getEpochInfo(commitment = 'finalized', minContextSlot) {
      const r = await call('getEpochInfo', [{ commitment, ...(minContextSlot === undefined ? {} : { minContextSlot }) }], epochInfoSchema);
      return { slot: r.absoluteSlot, blockHeight: r.blockHeight };
    },
    async getSignatureStatuses(signatures) {
      return (await statusesAt(signatures)).statuses;
    },
    getSignatureStatusesAt: statusesAt,
    async getMultipleAccounts(addresses, commitment = 'confirmed') {
      const r = await call('getMultipleAccounts', [addresses, { encoding: 'base64', commitment }], multipleAccountsSchema);
      if (r.value.length !== addresses.length) {
        throw new SolanaRpcError('bad_response', 'getMultipleAccounts', 'wrong number of accounts');
      }
      return r.value;
    },
  };
}

function fetchFailure(method: string, error: unknown, timeoutMs: number, what = 'request failed'): SolanaRpcError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new SolanaRpcError('timeout', method, `no answer within ${timeoutMs} ms`, undefined, undefined, { cause: error });
  }
  return new SolanaRpcError('network', method, what, undefined, undefined, { cause: error });
}
