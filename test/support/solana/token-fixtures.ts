import { getCreateAccountInstruction } from '@solana-program/system';
import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getInitializeMint2Instruction,
  getMintSize,
  getMintToInstruction,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from '@solana-program/token';
import {
  AccountRole,
  appendTransactionMessageInstructions,
  createTransactionMessage,
  generateKeyPairSigner,
  lamports,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Blockhash,
  type Instruction,
  type KeyPairSigner,
  type Transaction,
} from '@solana/kit';
import type { ExecuteResult, LocalChain } from './local-chain.ts';

// Chain setup for settlement tests, done with real transactions executed in litesvm (and indexed
// by LocalChain like any other), so the RPC server can later show them.

export const TEST_DECIMALS = 6;

export async function fundedWallet(chain: LocalChain, sol = 10n): Promise<KeyPairSigner> {
  const wallet = await generateKeyPairSigner();
  chain.svm.airdrop(wallet.address, lamports(sol * 1_000_000_000n));
  return wallet;
}

/** Signs `instructions` with `feePayer` (plus any signers they carry) against the current blockhash. */
export async function signedTransaction(chain: LocalChain, feePayer: KeyPairSigner, instructions: Instruction[]): Promise<Transaction> {
  const { blockhash, lastValidBlockHeight } = chain.latestBlockhash();
  return signTransactionMessageWithSigners(
    pipe(
      createTransactionMessage({ version: 'legacy' }),
      (m) => setTransactionMessageFeePayerSigner(feePayer, m),
      (m) =>
        setTransactionMessageLifetimeUsingBlockhash(
          { blockhash: blockhash as Blockhash, lastValidBlockHeight: BigInt(lastValidBlockHeight) },
          m,
        ),
      (m) => appendTransactionMessageInstructions(instructions, m),
    ),
  );
}

/**
 * Signs and executes, as a wallet does: signing awaits, and setups run concurrently (a test making
 * 55 wallets at once), so the blockhash read before signing can rotate before the transaction
 * executes; then it signs again with the new one (up to 3 times). Nothing ran, so nothing lands
 * twice. Any other outcome, a failed transaction included, is returned as it is.
 */
export async function signAndExecute(chain: LocalChain, feePayer: KeyPairSigner, instructions: Instruction[]): Promise<ExecuteResult> {
  let result = chain.execute(await signedTransaction(chain, feePayer, instructions));
  for (let retry = 0; retry < 3 && !result.landed && JSON.stringify(result.err).includes('BlockhashNotFound'); retry++) {
    result = chain.execute(await signedTransaction(chain, feePayer, instructions));
  }
  return result;
}

/** Executes and insists that it landed successfully: for setup steps. */
export async function run(chain: LocalChain, feePayer: KeyPairSigner, instructions: Instruction[]): Promise<ExecuteResult> {
  const result = await signAndExecute(chain, feePayer, instructions);
  if (!result.landed || result.tx.err !== null) {
    throw new Error(
      `setup transaction failed: ${JSON.stringify(result.landed ? result.tx.err : result.err)}\n${(result.landed ? result.tx.logs : result.logs).join('\n')}`,
    );
  }
  return result;
}

/** `freezeAuthority`: who may freeze token accounts of this mint (none when omitted). */
export async function createMint(
  chain: LocalChain,
  authority: KeyPairSigner,
  decimals = TEST_DECIMALS,
  freezeAuthority?: Address,
): Promise<Address> {
  const mint = await generateKeyPairSigner();
  const space = BigInt(getMintSize());
  await run(chain, authority, [
    getCreateAccountInstruction({
      payer: authority,
      newAccount: mint,
      lamports: chain.svm.minimumBalanceForRentExemption(space),
      space,
      programAddress: TOKEN_PROGRAM_ADDRESS,
    }),
    getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority.address, freezeAuthority }),
  ]);
  return mint.address;
}

export async function ataOf(owner: Address, mint: Address): Promise<Address> {
  const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  return ata;
}

export async function createTokenAccount(chain: LocalChain, payer: KeyPairSigner, owner: Address, mint: Address): Promise<Address> {
  const ata = await ataOf(owner, mint);
  await run(chain, payer, [getCreateAssociatedTokenIdempotentInstruction({ payer, ata, owner, mint })]);
  return ata;
}

/** Creates `owner`'s token account if needed and mints `amount` base units into it. */
export async function mintTokens(
  chain: LocalChain,
  authority: KeyPairSigner,
  mint: Address,
  owner: Address,
  amount: bigint,
): Promise<Address> {
  const ata = await ataOf(owner, mint);
  await run(chain, authority, [
    getCreateAssociatedTokenIdempotentInstruction({ payer: authority, ata, owner, mint }),
    getMintToInstruction({ mint, token: ata, mintAuthority: authority, amount }),
  ]);
  return ata;
}

/** A wallet paying as a Solana Pay wallet does: transferChecked with the reference appended as a read-only key. */
export async function payTokens(
  chain: LocalChain,
  input: { from: KeyPairSigner; mint: Address; decimals?: number; destination: Address; amount: bigint; reference?: Address },
): Promise<ExecuteResult> {
  const source = await ataOf(input.from.address, input.mint);
  const transfer = getTransferCheckedInstruction({
    source,
    mint: input.mint,
    destination: input.destination,
    authority: input.from,
    amount: input.amount,
    decimals: input.decimals ?? TEST_DECIMALS,
  });
  const instruction: Instruction = input.reference
    ? { ...transfer, accounts: [...transfer.accounts, { address: input.reference, role: AccountRole.READONLY }] }
    : transfer;
  // Executed directly, not through preflight: a failing payment still lands, as with skipPreflight.
  return signAndExecute(chain, input.from, [instruction]);
}

export interface TokenWorld {
  mintAuthority: KeyPairSigner;
  mint: Address;
  /** Same decimals, same authority, different address: what a scammer would deposit. */
  lookAlikeMint: Address;
  treasury: KeyPairSigner;
  treasuryAta: Address;
  decimals: number;
}

/** Our mint (6 decimals), a look-alike mint, and a treasury holding `treasuryBalance` of ours. */
export async function createTokenWorld(chain: LocalChain, treasuryBalance = 1_000_000_000_000n): Promise<TokenWorld> {
  const mintAuthority = await fundedWallet(chain, 100n);
  const mint = await createMint(chain, mintAuthority);
  const lookAlikeMint = await createMint(chain, mintAuthority);
  const treasury = await fundedWallet(chain, 100n);
  const treasuryAta = await mintTokens(chain, mintAuthority, mint, treasury.address, treasuryBalance);
  return { mintAuthority, mint, lookAlikeMint, treasury, treasuryAta, decimals: TEST_DECIMALS };
}
