import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCluster } from '../../../workers/settlement/cluster.ts';
import { createRpcClient } from '../../../workers/settlement/rpc-client.ts';
import { SolanaRpcError, WrongClusterError } from '../../../workers/settlement/rpc-error.ts';
import { startRpcServer, type LocalRpcServer } from '../../support/solana/rpc-server.ts';

// The client against a node that misbehaves in every way it can: each failure becomes one typed
// SolanaRpcError whose `kind` says what is known about the call's effect.

let answer: (body: { method: string }) => { status: number; body: string } | 'hang';
let raw: Server;
let rawUrl: string;
let local: LocalRpcServer;

beforeAll(async () => {
  raw = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const reply = answer(JSON.parse(text));
    if (reply === 'hang') return;
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  local = await startRpcServer();
});
afterAll(async () => {
  raw.closeAllConnections();
  await new Promise((resolve) => raw.close(resolve));
  await local.close();
});

const client = (timeoutMs = 500) => createRpcClient({ url: rawUrl, timeoutMs });
const ok = (result: unknown) => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: 1, result }) });

async function failure(promise: Promise<unknown>): Promise<SolanaRpcError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SolanaRpcError);
  return error as SolanaRpcError;
}

describe('rpc client', () => {
  it('maps a JSON-RPC error to kind "rpc" with the node\'s code', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32005, message: 'Node is behind' } }) });
    const error = await failure(client().getBlockHeight());
    expect(error).toMatchObject({
      kind: 'rpc',
      rpcCode: -32005,
      method: 'getBlockHeight',
      status: 502,
      publicCode: 'solana_rpc_unavailable',
    });
  });

  it('rejects a result that does not match the schema', async () => {
    answer = () => ok({ context: { slot: 1 }, value: { blockhash: 'not base58 !', lastValidBlockHeight: 5 } });
    expect(await failure(client().getLatestBlockhash())).toMatchObject({ kind: 'bad_response' });
    answer = () => ok({ context: { slot: 1 }, value: [null] });
    expect(await failure(client().getSignatureStatuses(['a', 'b']))).toMatchObject({ kind: 'bad_response' });
    answer = () => ({ status: 200, body: '<html>' });
    expect(await failure(client().getGenesisHash())).toMatchObject({ kind: 'bad_response' });
  });

  it('maps an HTTP failure to kind "http"', async () => {
    answer = () => ({ status: 429, body: 'Too many requests' });
    expect(await failure(client().getBlockHeight())).toMatchObject({ kind: 'http' });
  });

  it('gives up after the timeout with kind "timeout"', async () => {
    answer = () => 'hang';
    const started = Date.now();
    expect(await failure(client(200).getBlockHeight())).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('maps a refused connection to kind "network"', async () => {
    expect(await failure(createRpcClient({ url: 'http://127.0.0.1:1' }).getBlockHeight())).toMatchObject({ kind: 'network' });
  });

  it('reads token amounts as exact bigints', async () => {
    const big = '18446744073709551615';
    const balance = { accountIndex: 1, mint: '11111111111111111111111111111111', uiTokenAmount: { amount: big, decimals: 6 } };
    answer = () =>
      ok({
        slot: 3,
        meta: { err: null, fee: 5000, preTokenBalances: [], postTokenBalances: [balance] },
        transaction: { signatures: ['5'.repeat(64)], message: { accountKeys: [], recentBlockhash: '11111111111111111111111111111111' } },
      });
    const tx = await client().getTransaction('5'.repeat(64));
    expect(tx?.meta?.postTokenBalances?.[0]?.uiTokenAmount.amount).toBe(2n ** 64n - 1n);
  });

  it('caches the genesis hash and checks the cluster with it', async () => {
    const rpc = createRpcClient({ url: local.url });
    await assertCluster(rpc, local.chain.genesisHash);
    await assertCluster(rpc, null);
    await expect(assertCluster(rpc, 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG')).rejects.toBeInstanceOf(WrongClusterError);
    expect(local.calls.filter((c) => c.method === 'getGenesisHash')).toHaveLength(1);
  });
});
