import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getBase58Decoder, getBase58Encoder, getTransactionDecoder, getSignatureFromTransaction, type Address } from '@solana/kit';
import { LocalChain, type Commitment, type IndexedTransaction, type LocalChainOptions } from './local-chain.ts';

// A Solana JSON-RPC endpoint for tests, backed by LocalChain (litesvm). It answers the methods
// workers/settlement calls, with the response shapes of a real node, and has switches for the
// failures that matter to settlement: a send that is swallowed, a send that executes but never
// answers (the client times out), blockhash expiry and delayed finality.

export interface RpcServerOptions extends LocalChainOptions {
  /** Reuse a chain; otherwise a new one is made from the options. */
  chain?: LocalChain;
  /** Default 127.0.0.1 (workerd reaches Node-side servers there). */
  host?: string;
}

export interface LocalRpcServer {
  url: string;
  chain: LocalChain;
  /** Every call received, in order (for assertions on what the client did). */
  calls: { method: string; params: unknown[] }[];
  /** The next sendTransaction returns its signature but the transaction is lost, as a dropped packet is. */
  dropNextSend(): void;
  /** The next sendTransaction executes (the transaction lands) and then never answers. */
  timeoutNextSend(): void;
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

export async function startRpcServer(options: RpcServerOptions = {}): Promise<LocalRpcServer> {
  const chain = options.chain ?? new LocalChain(options);
  const calls: LocalRpcServer['calls'] = [];
  const switches = { drop: false, hang: false, fail: new Set<string>() };
  const hanging = new Set<ServerResponse>();

  const methods: Record<string, (params: unknown[]) => unknown> = {
    getGenesisHash: () => chain.genesisHash,
    getHealth: () => 'ok',
    getSlot: (p) => chain.blockHeight(commitmentOf(p[0])),
    getBlockHeight: (p) => chain.blockHeight(commitmentOf(p[0])),
    getLatestBlockhash: (p) => ({ context: context(chain), value: withCommitment(chain, commitmentOf(p[0])) }),
    getSignaturesForAddress: (p) => signaturesForAddress(chain, p),
    getTransaction: (p) => transaction(chain, p),
    getSignatureStatuses: (p) => ({
      context: context(chain),
      value: (p[0] as string[]).map((s) => {
        const tx = chain.getTransaction(s);
        if (!tx) return null;
        const finalized = chain.commitmentOf(tx) === 'finalized';
        return {
          slot: tx.slot,
          confirmations: finalized ? null : chain.height - tx.slot,
          err: tx.err,
          status: tx.err === null ? { Ok: null } : { Err: tx.err },
          confirmationStatus: chain.commitmentOf(tx),
        };
      }),
    }),
    getMultipleAccounts: (p) => ({ context: context(chain), value: (p[0] as string[]).map((a) => accountInfo(chain, a)) }),
    getAccountInfo: (p) => ({ context: context(chain), value: accountInfo(chain, p[0] as string) }),
    sendTransaction: (p) => {
      const config = (p[1] ?? {}) as { encoding?: string; skipPreflight?: boolean };
      const bytes = config.encoding === 'base64' ? Buffer.from(String(p[0]), 'base64') : getBase58Encoder().encode(String(p[0]));
      const tx = getTransactionDecoder().decode(bytes);
      const signature = getSignatureFromTransaction(tx);
      if (switches.drop) {
        switches.drop = false;
        return signature;
      }
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
      if (switches.hang) {
        switches.hang = false;
        return HANG;
      }
      return signature;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
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
    chain,
    calls,
    dropNextSend: () => void (switches.drop = true),
    timeoutNextSend: () => void (switches.hang = true),
    failNext: (method) => void switches.fail.add(method),
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

function commitmentOf(config: unknown): Commitment {
  const c = (config as { commitment?: Commitment } | undefined)?.commitment;
  return c ?? 'finalized';
}

function withCommitment(chain: LocalChain, _commitment: Commitment) {
  // litesvm has one valid blockhash at a time; every commitment level sees it.
  return chain.latestBlockhash();
}

function signaturesForAddress(chain: LocalChain, params: unknown[]) {
  const config = (params[1] ?? {}) as { limit?: number; before?: string; until?: string; commitment?: Commitment };
  const commitment = config.commitment ?? 'finalized';
  if (commitment === 'processed') throw new RpcFailure(-32602, 'Method does not support commitment below `confirmed`');
  const limit = config.limit ?? 1000;
  let list = chain.signaturesFor(String(params[0]));
  if (commitment === 'finalized') list = list.filter((tx) => chain.commitmentOf(tx) === 'finalized');
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
    confirmationStatus: chain.commitmentOf(tx),
  }));
}

function transaction(chain: LocalChain, params: unknown[]) {
  const config = (params[1] ?? {}) as { encoding?: string; commitment?: Commitment; maxSupportedTransactionVersion?: number };
  if ((config.encoding ?? 'json') !== 'json') throw new RpcFailure(-32602, 'the test RPC server only speaks encoding "json"');
  if (config.commitment === 'processed') throw new RpcFailure(-32602, 'Method does not support commitment below `confirmed`');
  const tx = chain.getTransaction(String(params[0]));
  if (!tx) return null;
  if ((config.commitment ?? 'finalized') === 'finalized' && chain.commitmentOf(tx) !== 'finalized') return null;
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
      loadedAddresses: { writable: [], readonly: [] },
      computeUnitsConsumed: tx.computeUnits,
    },
    transaction: {
      signatures: tx.signatures,
      message: {
        accountKeys: tx.accountKeys,
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
