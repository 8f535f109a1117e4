import { createKeyPairSignerFromBytes, isAddress, type Address, type KeyPairSigner } from '@solana/kit';
import * as z from 'zod';
import { parseAmount } from '../lib/amounts.ts';
import { decodeBase58 } from '../../protocol/base58.ts';

/**
 * Genesis hashes of the public clusters. A Solana cluster is identified by its genesis hash, not
 * by its URL: checking it stops a devnet RPC URL in production from crediting devnet tokens.
 */
export const KNOWN_GENESIS_HASHES = {
  'mainnet-beta': '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d',
  devnet: 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG',
  testnet: '4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY',
} as const;

const address = z
  .string()
  .refine(isAddress, 'must be a base58 Solana address')
  .transform((a) => a as Address);

const settlementEnvSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'test', 'production']),
  SOLANA_RPC_URL: z.url({ protocol: /^https?$/ }),
  TOKEN_MINT: address,
  TOKEN_DECIMALS: z.coerce.number().int().min(0).max(12).default(6),
  TREASURY_SECRET_KEY: z.string().min(1),
  /**
   * The genesis hash of the cluster SOLANA_RPC_URL must serve, checked in every environment.
   * Production defaults to mainnet-beta; elsewhere it is required (local validators and litesvm
   * make a fresh genesis every run, so a developer sets theirs: `solana genesis-hash`). Without a
   * check a devnet or local RPC URL could credit deposits of tokens that are worth nothing.
   */
  SOLANA_GENESIS_HASH: z
    .string()
    .refine((s) => decodeBase58(s)?.length === 32, 'must be a base58 hash')
    .optional(),
  /** Optional. Milliseconds before an RPC call is abandoned. */
  SOLANA_RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Deposit references the cron scans per run, least recently scanned first. */
  DEPOSIT_SCAN_REFERENCES: z.coerce.number().int().min(1).max(500).default(25),
  /** How long a handed-out reference is scanned by the cron (the on-demand check works after that too). */
  DEPOSIT_REFERENCE_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .default(7 * 86_400),
  /**
   * Open deposit references one account may hold. Each is listed by the cron until used or
   * expired, so references are load: the cap keeps one account from crowding the scan. A
   * reference without an amount takes any number of payments, so one or two are all anyone needs.
   */
  DEPOSIT_OPEN_REFERENCES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1000).default(10),
  /** Payouts per legacy transaction, at most (20 fit with existing token accounts; fewer are planned when accounts are created). */
  PAYOUT_MAX_PER_TX: z.coerce.number().int().min(1).max(22).default(20),
  /**
   * `on`: payouts to recipients with token accounts go in v0 transactions with the treasury's
   * address lookup table when that needs fewer transactions than legacy (over 20 at once); `off`:
   * always legacy (no table is created).
   */
  PAYOUT_LOOKUP_TABLE: z.enum(['on', 'off']).default('on'),
  /** Payouts per v0 transaction, at most (57 fit, 54 with a priority fee: test/bench/settlement; size decides below this). */
  PAYOUT_MAX_PER_V0_TX: z.coerce.number().int().min(1).max(64).default(64),
  /** Open payout batches advanced per cron run (one RPC round each). */
  PAYOUT_BATCHES_PER_RUN: z.coerce.number().int().min(1).max(100).default(10),
  /** Optional priority fee in micro-lamports per compute unit; unset sends without one. */
  PAYOUT_PRIORITY_FEE_MICROLAMPORTS: z.coerce.number().int().min(0).max(10_000_000).optional(),
  /**
   * Smallest withdrawal, in whole tokens (before the account fee). Each payout costs the treasury
   * a share of a transaction fee; without a floor one balance could be split into millions of them.
   */
  WITHDRAWAL_MIN: z
    .string()
    .regex(/^[0-9]{1,12}(\.[0-9]{1,12})?$/, 'must be a decimal amount of tokens')
    .default('1'),
  /**
   * Charged, in whole tokens, when the destination has no token account for our mint: the payout
   * creates it and the treasury pays its rent (~0.00204 SOL). Set it to that much SOL in tokens.
   */
  WITHDRAWAL_ACCOUNT_FEE: z
    .string()
    .regex(/^[0-9]{1,12}(\.[0-9]{1,12})?$/, 'must be a decimal amount of tokens')
    .default('0.5'),
});

export interface SettlementConfig {
  rpcUrl: string;
  rpcTimeoutMs: number;
  mint: Address;
  decimals: number;
  /** Every RPC answer is from this cluster (checked before anything is credited or signed). */
  genesisHash: string;
  /** Kept as bytes: turning it into a signer is async (WebCrypto), see `loadTreasurySigner`. */
  treasurySecretKey: Uint8Array;
  deposits: { scanReferencesPerRun: number; referenceTtlMs: number; openReferencesPerAccount: number };
  payouts: {
    maxPerTx: number;
    batchesPerRun: number;
    priorityFeeMicroLamports: bigint | undefined;
    /** v0 transactions with the treasury's lookup table where they save transactions. */
    lookupTable: boolean;
    maxPerV0Tx: number;
  };
  /** Base units of our mint. */
  withdrawals: { minimum: number; accountFee: number };
}

/** Parses the settlement part of the Worker env once; a bad value fails with the names at fault. */
export function parseSettlementConfig(env: Record<string, unknown>): SettlementConfig {
  const parsed = settlementEnvSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`settlement configuration is invalid: ${names}`);
  }
  const data = parsed.data;
  const minimum = parseAmount(data.WITHDRAWAL_MIN, data.TOKEN_DECIMALS);
  const accountFee = parseAmount(data.WITHDRAWAL_ACCOUNT_FEE, data.TOKEN_DECIMALS);
  if (!minimum.ok || minimum.baseUnits < 1)
    throw new Error('settlement configuration is invalid: WITHDRAWAL_MIN must be a positive amount in whole tokens');
  if (!accountFee.ok) throw new Error('settlement configuration is invalid: WITHDRAWAL_ACCOUNT_FEE must be an amount in whole tokens');
  const secret = parseTreasurySecretKey(data.TREASURY_SECRET_KEY);
  if (!secret) {
    throw new Error(
      'settlement configuration is invalid: TREASURY_SECRET_KEY must be 64 bytes, as a JSON byte array (solana-keygen file) or base58',
    );
  }
  const genesisHash = data.SOLANA_GENESIS_HASH ?? (data.ENVIRONMENT === 'production' ? KNOWN_GENESIS_HASHES['mainnet-beta'] : undefined);
  if (!genesisHash) {
    throw new Error(
      'settlement configuration is invalid: SOLANA_GENESIS_HASH is required outside production (the cluster is checked in every environment)',
    );
  }
  return {
    rpcUrl: data.SOLANA_RPC_URL,
    rpcTimeoutMs: data.SOLANA_RPC_TIMEOUT_MS,
    mint: data.TOKEN_MINT,
    decimals: data.TOKEN_DECIMALS,
    genesisHash,
    treasurySecretKey: secret,
    deposits: {
      scanReferencesPerRun: data.DEPOSIT_SCAN_REFERENCES,
      referenceTtlMs: data.DEPOSIT_REFERENCE_TTL_S * 1000,
      openReferencesPerAccount: data.DEPOSIT_OPEN_REFERENCES_PER_ACCOUNT,
    },
    payouts: {
      maxPerTx: data.PAYOUT_MAX_PER_TX,
      batchesPerRun: data.PAYOUT_BATCHES_PER_RUN,
      lookupTable: data.PAYOUT_LOOKUP_TABLE === 'on',
      maxPerV0Tx: data.PAYOUT_MAX_PER_V0_TX,
      priorityFeeMicroLamports:
        data.PAYOUT_PRIORITY_FEE_MICROLAMPORTS === undefined ? undefined : BigInt(data.PAYOUT_PRIORITY_FEE_MICROLAMPORTS),
    },
    withdrawals: { minimum: minimum.baseUnits, accountFee: accountFee.baseUnits },
  };
}

/**
 * Accepts the two formats operators actually have: the JSON byte array written by
 * `solana-keygen` and the base58 string wallets export. Both hold secret(32) ‖ public(32).
 */
export function parseTreasurySecretKey(text: string): Uint8Array | null {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed = z.array(z.number().int().min(0).max(255)).length(64).safeParse(safeJson(trimmed));
    return parsed.success ? Uint8Array.from(parsed.data) : null;
  }
  const bytes = decodeBase58(trimmed);
  return bytes?.length === 64 ? bytes : null;
}

/** Checks that the public half matches the secret half (Kit signs and verifies once). */
export function loadTreasurySigner(config: Pick<SettlementConfig, 'treasurySecretKey'>): Promise<KeyPairSigner> {
  return createKeyPairSignerFromBytes(config.treasurySecretKey);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
