import * as z from 'zod';

// Schemas for the slice of each Solana JSON-RPC response we read. Unknown fields are dropped;
// anything we rely on that is missing or mistyped fails the call as `bad_response`.

export const commitmentSchema = z.enum(['processed', 'confirmed', 'finalized']);
export type Commitment = z.infer<typeof commitmentSchema>;

const u64 = z.number().int().nonnegative();
const base58 = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,88}$/);
/** Token amounts arrive as decimal strings precisely so they survive JSON; keep them exact. */
const baseUnits = z
  .string()
  .regex(/^[0-9]{1,20}$/)
  .transform((s) => BigInt(s));

const context = z.object({ slot: u64 });
const withContext = <T extends z.ZodType>(value: T) => z.object({ context, value });

export const rpcEnvelopeSchema = z.union([
  z.object({ jsonrpc: z.literal('2.0'), result: z.unknown(), id: z.unknown() }),
  z.object({
    jsonrpc: z.literal('2.0'),
    error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }),
    id: z.unknown(),
  }),
]);

export const genesisHashSchema = base58;
export const blockHeightSchema = u64;
/** Slot and block height of ONE bank, so a status can be required to come from a node at least that far. */
export const epochInfoSchema = z.object({ absoluteSlot: u64, blockHeight: u64 });
export const signatureSchema = base58;

export const latestBlockhashSchema = withContext(z.object({ blockhash: base58, lastValidBlockHeight: u64 }));

export const signatureInfoSchema = z.object({
  signature: base58,
  slot: u64,
  err: z.unknown().nullable(),
  blockTime: z.number().nullable().optional(),
  confirmationStatus: commitmentSchema.nullable().optional(),
});
export type SignatureInfo = z.infer<typeof signatureInfoSchema>;
export const signaturesForAddressSchema = z.array(signatureInfoSchema);

export const signatureStatusSchema = z.object({
  slot: u64,
  confirmations: u64.nullable(),
  err: z.unknown().nullable(),
  confirmationStatus: commitmentSchema.nullable().optional(),
});
export type SignatureStatus = z.infer<typeof signatureStatusSchema>;
export const signatureStatusesSchema = withContext(z.array(signatureStatusSchema.nullable()));

const tokenBalanceSchema = z.object({
  accountIndex: z.number().int().nonnegative(),
  mint: base58,
  owner: base58.optional(),
  programId: base58.optional(),
  uiTokenAmount: z.object({ amount: baseUnits, decimals: z.number().int().nonnegative() }),
});
export type TokenBalance = z.infer<typeof tokenBalanceSchema>;

/** getTransaction with `encoding: 'json'`: account keys are plain strings. */
export const rpcTransactionSchema = z.object({
  slot: u64,
  blockTime: z.number().nullable().optional(),
  version: z.union([z.literal('legacy'), z.number()]).optional(),
  meta: z
    .object({
      err: z.unknown().nullable(),
      fee: u64,
      preTokenBalances: z.array(tokenBalanceSchema).nullable().optional(),
      postTokenBalances: z.array(tokenBalanceSchema).nullable().optional(),
      // v0 transactions: keys loaded from lookup tables follow the static keys, in this order.
      loadedAddresses: z
        .object({ writable: z.array(base58), readonly: z.array(base58) })
        .nullable()
        .optional(),
    })
    .nullable(),
  transaction: z.object({
    signatures: z.array(base58).min(1),
    message: z.object({ accountKeys: z.array(base58), recentBlockhash: base58 }),
  }),
});
export type RpcTransaction = z.infer<typeof rpcTransactionSchema>;
export const maybeTransactionSchema = rpcTransactionSchema.nullable();

const accountInfoSchema = z.object({
  lamports: u64,
  owner: base58,
  data: z.tuple([z.string(), z.literal('base64')]),
  executable: z.boolean(),
});
export type AccountInfo = z.infer<typeof accountInfoSchema>;
export const multipleAccountsSchema = withContext(z.array(accountInfoSchema.nullable()));
