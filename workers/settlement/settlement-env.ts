import { getAddressDecoder, type Address, type KeyPairSigner } from '@solana/kit';
import type { Env } from '../env.ts';
import { AppError } from '../errors.ts';
import { loadTreasurySigner, parseSettlementConfig, type SettlementConfig } from './config.ts';
import { createRpcClient, type SolanaRpc } from './rpc-client.ts';
import { SolanaRpcError, WrongClusterError } from './rpc-error.ts';
import { treasuryTokenAccount } from './transfer-request.ts';

// Everything the Worker needs to settle, built once per env object: the parsed configuration,
// the RPC client, the treasury signer and its token account. Routes and the cron take it from here.

export interface Settlement {
  config: SettlementConfig;
  rpc: SolanaRpc;
  /** The treasury's wallet address (the public half of TREASURY_SECRET_KEY). */
  treasuryAddress: Address;
  /**
   * The treasury signer, made on first use: only payouts sign, and making it signs once to check
   * that the two halves of the key belong together.
   */
  treasury(): Promise<KeyPairSigner>;
  /** The treasury's associated token account for our mint: where deposits must arrive. */
  treasuryTokenAccount: Address;
}

/** The names settlement cannot run without (PROTOCOL.md "Configuration names"). */
export const REQUIRED_SETTLEMENT_NAMES = ['SOLANA_RPC_URL', 'TOKEN_MINT', 'TREASURY_SECRET_KEY'] as const;

export function missingSettlementNames(env: Env): string[] {
  const vars = env as unknown as Record<string, unknown>;
  return REQUIRED_SETTLEMENT_NAMES.filter((name) => typeof vars[name] !== 'string' || vars[name] === '');
}

const cache = new WeakMap<object, Promise<Settlement>>();

/** Throws (with the names at fault) when the configuration is invalid; callers check `missingSettlementNames` first. */
export function loadSettlement(env: Env): Promise<Settlement> {
  let hit = cache.get(env);
  if (!hit) {
    hit = build(env);
    cache.set(env, hit);
    hit.catch(() => cache.delete(env));
  }
  return hit;
}

async function build(env: Env): Promise<Settlement> {
  const config = parseSettlementConfig(env as unknown as Record<string, unknown>);
  const treasuryAddress = getAddressDecoder().decode(config.treasurySecretKey.subarray(32));
  let signer: Promise<KeyPairSigner> | undefined;
  return {
    config,
    rpc: createRpcClient({ url: config.rpcUrl, timeoutMs: config.rpcTimeoutMs }),
    treasuryAddress,
    treasury: () => (signer ??= loadTreasurySigner(config)),
    treasuryTokenAccount: await treasuryTokenAccount(treasuryAddress, config.mint),
  };
}

/** For routes: settlement must be configured, or the route answers 503. */
export async function requireSettlement(env: Env): Promise<Settlement> {
  if (missingSettlementNames(env).length > 0) {
    throw new AppError(503, 'settlement_unavailable', 'On-chain settlement is not configured on this deployment.');
  }
  try {
    return await loadSettlement(env);
  } catch (error) {
    throw new AppError(503, 'settlement_unavailable', 'On-chain settlement is misconfigured on this deployment.', error);
  }
}

/** RPC failures and a wrong cluster become the protocol's 502 error body; the details are logged. */
export function upstreamError(error: unknown): unknown {
  if (error instanceof SolanaRpcError || error instanceof WrongClusterError) {
    return new AppError(error.status, error.publicCode, error.publicMessage, error);
  }
  return error;
}
