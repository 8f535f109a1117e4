// Over 300 lines: one JSON-RPC method table whose switches (swallowed sends, lagging finality, timeouts) act across methods; splitting it would split each switch.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  getBase58Decoder,
  getBase58Encoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  type Address,
  type Transaction,
} from '@solana/kit';
import { LocalChain, type Commitment, type IndexedTransaction, type LocalChainOptions } from './local-chain.ts';

// A Solana JSON-RPC endpoint for tests, backed by LocalChain (litesvm). It answers the methods
// workers/settlement calls, with the response shapes of a real node, and has switches for the
// failures that matter to settlement: a send that is swallowed, a send that executes but never
// answers (the client times out), blockhash expiry and delayed finality, and a load-balanced
// RPC whose backends lag behind one another (a status read from a node that has not yet seen the
// block holding a transaction).
//
// The switches can name an account: then they apply only to a transaction that has it among its
// keys (or, for finality, to every transaction that touches it). Test files that share one server
// (the workerd suite runs files in parallel) stay out of each other's way that way. The same
// switches are reachable over HTTP at `POST /__control` (see `controlOp`), for tests that run
// where the server object is not (inside workerd).

export interface RpcServerOptions extends LocalChainOptions {
  /** Reuse a chain; otherwise a new one is made from the options. */
  chain?: LocalChain;
  /** Handles `POST /__control` bodies whose `op` is not one of the built-in ones (see `controlOp`). */
  control?: (body: Record<string, unknown>) => unknown;
  /** Default 127.0.0.1 (workerd reaches Node-side servers there). */
  host?: string;
}

export interface LocalRpcServer {
  url: string;
  chain: LocalChain;
  /** Every call received, in order (for assertions on what the client did). */
  calls: { method: string; params: unknown[] }[];
  /**
   * The next sendTransaction (of a transaction with `account` among its keys, when given) returns
   * its signature but the transaction is lost, as a dropped packet is.
   */
  dropNextSend(account?: string): void;
  /** The next sendTransaction (optionally: touching `account`) executes (the transaction lands) and then never answers. */
  timeoutNextSend(account?: string): void;
  /** Transactions touching `account` stay at `confirmed` until `releaseFinality(account)`. */
  holdFinality(account: string): void;
  releaseFinality(account: string): void;
  /**
   * getSignatureStatuses for transactions touching `account` is answered as a backend that lags
   * one slot behind the block holding the transaction: the status is unknown and the context slot
   * is below that block. A request naming `minContextSlot` above it gets the protocol's -32016
   * "Minimum context slot has not been reached" error, as a real node answers. Until `catchUp(account)`.
   */
  lagStatuses(account: string): void;
  catchUp(account: string): void;
  /** The next call of `method` answers HTTP 503 without doing anything. */
  failNext(method: string): void;
  close(): Promise<void>;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const HANG = Symbol('hang');

interface SendRule {
  kind: 'drop' | 'hang';
  account?: string;
}

export async function startRpcServer(options: RpcServerOptions = {}): Promise<LocalRpcServer> {
  const chain = options.chain ?? new LocalChain(options);
  const calls: LocalRpcServer['calls'] = [];
  const switches = { rules: [] as SendRule[], fail: new Set<string>(), held: new Set<string>(), lagging: new Set<string>() };
  const hanging = new Set<ServerResponse>();
  /** The chain's commitment, except that held accounts keep their transactions at `confirmed`. */
  const commitmentOf = (tx: IndexedTransaction): Commitment =>
    switches.held.size > 0 && tx.accountKeys.some((k) => switches.held.has(k)) ? 'confirmed' : chain.commitmentOf(tx);
  /** Takes the first rule that applies to this transaction, if any. */
  const takeRule = (tx: Transaction): SendRule['kind'] | null => {
    if (switches.rules.length === 0) return null;
    const keys = chain.keysOf(tx);
    const at = switches.rules.findIndex((r) => r.account === undefined || keys.includes(r.account));
    if (at < 0) return null;
    return switches.rules.splice(at, 1)[0]!.kind;
  };

  /** Signature statuses as a node whose newest slot is `slot` sees them. */
  const statuses = (signatures: string[], slot: number) => ({
    context: { slot, apiVersion: '2.2.0' },
    value: signatures.map((s) => {
      const tx = chain.getTransaction(s);
      if (!tx || tx.slot > slot) return null;
      const finalized = commitmentOf(tx) === 'finalized';
      return {
        slot: tx.slot,
        confirmations: finalized ? null : chain.height - tx.slot,
        err: tx.err,
        status: tx.err === null ? { Ok: null } : { Err: tx.err },
        confirmationStatus: commitmentOf(tx),
      };
    }),
  });

  const methods: Record<string, (params: unknown[]) => unknown> = {
    getGenesisHash: () => chain.genesisHash,
    getHealth: () => 'ok',
    getSlot: (p) => atLeast(chain.blockHeight(requestedCommitment(p[0])), p[0]),
    getBlockHeight: (p) => atLeast(chain.blockHeight(requestedCommitment(p[0])), p[0]),
    // Slots and block heights coincide on this chain; both come from one bank, as on a real node.
    getEpochInfo: (p) => {
      const slot = atLeast(chain.blockHeight(requestedCommitment(p[0])), p[0]);
      return { absoluteSlot: slot, blockHeight: slot, epoch: 0, slotIndex: slot, slotsInEpoch: 432_000, transactionCount: null };
    },
    getLatestBlockhash: (p) => ({ context: context(chain), value: withCommitment(chain, requestedCommitment(p[0])) }),
    getSignaturesForAddress: (p) => signaturesForAddress(chain, p, commitmentOf),
    getTransaction: (p) => transaction(chain, p, commitmentOf),
    getSignatureStatuses: (p) => {
      // A lagging backend sits one slot below the earliest lagged transaction asked about.
      const lagged = (p[0] as string[])
        .map((s) => chain.getTransaction(s))
        // biome-ignore lint/complexity/useOptionalChain: a type guard returns a boolean; the chain would give undefined
        .filter((tx): tx is IndexedTransaction => tx !== undefined && tx.accountKeys.some((k) => switches.lagging.has(k)));
      const slot = lagged.length > 0 ? Math.min(...lagged.map((tx) => tx.slot)) - 1 : chain.height;
      atLeast(slot, p[1]);
      return statuses(p[0] as string[], slot);
    },
    getMultipleAccounts: (p) => ({ context: context(chain), value: (p[0] as string[]).map((a) => accountInfo(chain, a)) }),
    getAccountInfo: (p) => ({ context: context(chain), value: accountInfo(chain, p[0] as string) }),
    sendTransaction: (p) => {
      const config = (p[1] ?? {}) as { encoding?: string; skipPreflight?: boolean };
      const bytes = config.encoding === 'base64' ? Buffer.from(String(p[0]), 'base64') : getBase58Encoder().encode(String(p[0]));
      const tx = getTransactionDecoder().decode(bytes);
      const signature = getSignatureFromTransaction(tx);
      const rule = takeRule(tx);
      if (rule === 'drop') return signature;
      if (!config.skipPreflight) {
        const simulation = chain.simulate(tx);
        if (!simulation.ok) {
          throw new RpcFailure(-32002, `Transaction simulation failed: ${JSON.stringify(simulation.err)}`, {
            err: simulation.err,
            logs: simulation.logs,
          });
        }
      }
      chain.execute(tx); // a transaction that cannot land is silently dropped, as by a leader
      if (rule === 'hang') return HANG;
      return signature;
    },
  };

  const api: Omit<LocalRpcServer, 'url' | 'close'> = {
    chain,
    calls,
    dropNextSend: (account) => void switches.rules.push({ kind: 'drop', account }),
    timeoutNextSend: (account) => void switches.rules.push({ kind: 'hang', account }),
    failNext: (method) => void switches.fail.add(method),
    holdFinality: (account) => void switches.held.add(account),
    releaseFinality: (account) => void switches.held.delete(account),
    lagStatuses: (account) => void switches.lagging.add(account),
    catchUp: (account) => void switches.lagging.delete(account),
  };

  /**
   * `POST /__control` with `{ "op": … }`: dropNextSend / timeoutNextSend `{ account? }`,
   * failNext `{ method }`, holdFinality / releaseFinality `{ account }`, lagStatuses / catchUp
   * `{ account }`, expireBlockhash, finalize,
   * transactionsOf `{ address }` (landed transactions touching it, oldest first), sendCount
   * `{ signature }` (how often it was sent). Any other op goes to `options.control`.
   */
  async function controlOp(body: Record<string, unknown>): Promise<unknown> {
    const account = typeof body.account === 'string' ? body.account : undefined;
    switch (body.op) {
      case 'dropNextSend':
        return api.dropNextSend(account);
      case 'timeoutNextSend':
        return api.timeoutNextSend(account);
      case 'failNext':
        return api.failNext(String(body.method));
      case 'holdFinality':
        return api.holdFinality(String(account));
      case 'releaseFinality':
        return api.releaseFinality(String(account));
      case 'lagStatuses':
        return api.lagStatuses(String(account));
      case 'catchUp':
        return api.catchUp(String(account));
      case 'expireBlockhash':
        return chain.expireBlockhash();
      case 'finalize':
        return chain.finalize();
      case 'transactionsOf':
        return chain
          .signaturesFor(String(body.address))
          .reverse()
          .map((tx) => ({ signature: tx.signature, slot: tx.slot, err: tx.err, commitment: commitmentOf(tx) }));
      case 'sendCount':
        return calls.filter((c) => c.method === 'sendTransaction' && sendSignature(c.params) === body.signature).length;
      default:
        if (options.control) return options.control(body);
        throw new Error(`unknown control op ${JSON.stringify(body.op)}`);
    }
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, text: string): Promise<void> {
    if (req.method !== 'POST') return reply(res, 405, { error: 'POST a JSON body with an op' });
    try {
      const result = await controlOp(JSON.parse(text) as Record<string, unknown>);
      reply(res, 200, { result: result ?? null });
    } catch (error) {
      reply(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url?.startsWith('/__control')) return handleControl(req, res, Buffer.concat(chunks).toString('utf8'));
    let body: { id?: unknown; method?: unknown; params?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    const method = String(body.method);
    const params = Array.isArray(body.params) ? body.params : [];
    calls.push({ method, params });
    if (switches.fail.delete(method)) return reply(res, 503, { error: 'unavailable' });
    const handler = methods[method];
    if (!handler) return reply(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32601, message: 'Method not found' } });
    try {
      const result = handler(params);
      if (result === HANG) {
        hanging.add(res);
        return;
      }
      reply(res, 200, { jsonrpc: '2.0', id: body.id, result });
    } catch (error) {
      if (error instanceof RpcFailure) {
        reply(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: error.code, message: error.message, data: error.data } });
      } else {
        reply(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32603, message: String(error) } });
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => reply(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    ...api,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function context(chain: LocalChain) {
  return { slot: chain.height, apiVersion: '2.2.0' };
}

/** The signature of a sendTransaction call's transaction (its first signature), or null. */
function sendSignature(params: unknown[]): string | null {
  try {
    const config = (params[1] ?? {}) as { encoding?: string };
    const bytes = config.encoding === 'base64' ? Buffer.from(String(params[0]), 'base64') : getBase58Encoder().encode(String(params[0]));
    return getSignatureFromTransaction(getTransactionDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** A request's `minContextSlot` above the answering node's slot is the protocol's -32016 error. */
function atLeast(slot: number, config: unknown): number {
  const min = (config as { minContextSlot?: unknown } | undefined)?.minContextSlot;
  if (typeof min === 'number' && min > slot) {
    throw new RpcFailure(-32016, 'Minimum context slot has not been reached', { contextSlot: slot });
  }
  return slot;
}

function requestedCommitment(config: unknown): Commitment {
  const c = (config as { commitment?: Commitment } | undefined)?.commitment;
  return c ?? 'finalized';
}

function withCommitment(chain: LocalChain, _commitment: Commitment) {
  // litesvm has one valid blockhash at a time; every commitment level sees it.
  return chain.latestBlockhash();
}

type CommitmentOf = (tx: IndexedTransaction) => Commitment;

function signaturesForAddress(chain: LocalChain, params: unknown[], commitmentOf: CommitmentOf) {
  const config = (params[1] ?? {}) as { limit?: number; before?: string; until?: string; commitment?: Commitment };
  const commitment = config.commitment ?? 'finalized';
  if (commitment === 'processed') throw new RpcFailure(-32602, 'Method does not support commitment below `confirmed`');
  const limit = config.limit ?? 1000;
  let list = chain.signaturesFor(String(params[0]));
  if (commitment === 'finalized') list = list.filter((tx) => commitmentOf(tx) === 'finalized');
  if (config.before) {
    const at = list.findIndex((tx) => tx.signature === config.before);
    list = at < 0 ? [] : list.slice(at + 1);
  }
  if (config.until) {
    const at = list.findIndex((tx) => tx.signature === config.until);
    if (at >= 0) list = list.slice(0, at);
  }
  return list.slice(0, limit).map((tx) => ({
    signature: tx.signature,
    slot: tx.slot,
    err: tx.err,
    memo: null,
    blockTime: tx.blockTime,
    confirmationStatus: commitmentOf(tx),
  }));
}

function transaction(chain: LocalChain, params: unknown[], commitmentOf: CommitmentOf) {
  const config = (params[1] ?? {}) as { encoding?: string; commitment?: Commitment; maxSupportedTransactionVersion?: number };
  if ((config.encoding ?? 'json') !== 'json') throw new RpcFailure(-32602, 'the test RPC server only speaks encoding "json"');
  if (config.commitment === 'processed') throw new RpcFailure(-32602, 'Method does not support commitment below `confirmed`');
  const tx = chain.getTransaction(String(params[0]));
  if (!tx) return null;
  if ((config.commitment ?? 'finalized') === 'finalized' && commitmentOf(tx) !== 'finalized') return null;
  if (tx.message.version !== 'legacy' && config.maxSupportedTransactionVersion === undefined) {
    throw new RpcFailure(-32015, 'Transaction version (0) is not supported by the requesting client.');
  }
  return encodeTransaction(tx);
}

function encodeTransaction(tx: IndexedTransaction) {
  const { message } = tx;
  const base58 = getBase58Decoder();
  return {
    slot: tx.slot,
    blockTime: tx.blockTime,
    version: message.version,
    meta: {
      err: tx.err,
      status: tx.err === null ? { Ok: null } : { Err: tx.err },
      fee: tx.fee,
      preBalances: tx.preBalances,
      postBalances: tx.postBalances,
      preTokenBalances: tx.preTokenBalances,
      postTokenBalances: tx.postTokenBalances,
      innerInstructions: [],
      logMessages: tx.logs,
      rewards: [],
      loadedAddresses: tx.loadedAddresses,
      computeUnitsConsumed: tx.computeUnits,
    },
    transaction: {
      signatures: tx.signatures,
      message: {
        // Static keys only; a v0 transaction's loaded ones are in meta.loadedAddresses.
        accountKeys: message.staticAccounts,
        header: {
          numRequiredSignatures: message.header.numSignerAccounts,
          numReadonlySignedAccounts: message.header.numReadonlySignerAccounts,
          numReadonlyUnsignedAccounts: message.header.numReadonlyNonSignerAccounts,
        },
        instructions: (message.instructions ?? []).map((ix) => ({
          programIdIndex: ix.programAddressIndex,
          accounts: ix.accountIndices ?? [],
          data: base58.decode(ix.data ?? new Uint8Array()),
          stackHeight: null,
        })),
        recentBlockhash: message.lifetimeToken,
        ...(message.version === 0
          ? {
              addressTableLookups: (message.addressTableLookups ?? []).map((l) => ({
                accountKey: l.lookupTableAddress,
                writableIndexes: l.writableIndexes ?? [],
                readonlyIndexes: l.readonlyIndexes ?? [],
              })),
            }
          : {}),
      },
    },
  };
}

function accountInfo(chain: LocalChain, address: string) {
  const account = chain.svm.getAccount(address as Address);
  if (!account.exists) return null;
  return {
    lamports: Number(account.lamports),
    owner: account.programAddress,
    data: [Buffer.from(account.data).toString('base64'), 'base64'],
    executable: account.executable,
    rentEpoch: 0,
    space: account.data.length,
  };
}
