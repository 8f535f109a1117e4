import {
  getCloseAccountInstruction,
  getCreateAssociatedTokenIdempotentInstruction,
  getFreezeAccountInstruction,
  getTransferCheckedInstruction,
} from '@solana-program/token';
import {
  AccountRole,
  address,
  createKeyPairSignerFromPrivateKeyBytes,
  generateKeyPairSigner,
  getAddressEncoder,
  lamports,
  type Address,
  type Instruction,
  type KeyPairSigner,
} from '@solana/kit';
import type { TestProject } from 'vitest/node';
import { startRpcServer } from '../../support/solana/rpc-server.ts';
import { ataOf, createMint, fundedWallet, mintTokens, signAndExecute, TEST_DECIMALS } from '../../support/solana/token-fixtures.ts';
import type { LocalChain } from '../../support/solana/local-chain.ts';

// The Solana cluster of the worker suite (vitest globalSetup): a JSON-RPC server backed by
// litesvm (test/support/solana), one mint, a look-alike mint and a funded treasury, created here
// so the Worker's bindings (SOLANA_RPC_URL, TOKEN_MINT, TREASURY_SECRET_KEY, SOLANA_GENESIS_HASH)
// can name them. Tests drive the chain through `POST <SOLANA_RPC_URL>/__control` (helpers in
// test/worker/helpers/solana.ts): the server's own switches, plus the ops below, which act as
// depositors' wallets do — every one a real transaction executed by litesvm.

declare module 'vitest' {
  export interface ProvidedContext {
    solanaRpcUrl: string;
    solanaGenesisHash: string;
    solanaMint: string;
    /** The treasury keypair as a solana-keygen JSON byte array. */
    solanaTreasurySecretKey: string;
  }
}

export default async function setup(project: TestProject) {
  const wallets = new Map<string, KeyPairSigner>();
  let world: World | undefined;
  const server = await startRpcServer({ control: (body) => worldOp(server.chain, world!, wallets, body) });
  world = await createWorld(server.chain);

  project.provide('solanaRpcUrl', server.url);
  project.provide('solanaGenesisHash', server.chain.genesisHash);
  project.provide('solanaMint', world.mint);
  project.provide('solanaTreasurySecretKey', JSON.stringify([...world.treasurySecretKey]));
  return () => server.close();
}

interface World {
  mintAuthority: KeyPairSigner;
  mint: Address;
  lookAlikeMint: Address;
  treasury: KeyPairSigner;
  treasurySecretKey: Uint8Array;
}

async function createWorld(chain: LocalChain): Promise<World> {
  const mintAuthority = await fundedWallet(chain, 1_000n);
  // A freeze authority, so a test can make a recipient's token account refuse transfers.
  const mint = await createMint(chain, mintAuthority, undefined, mintAuthority.address);
  const lookAlikeMint = await createMint(chain, mintAuthority);
  // The treasury key must leave the process as bytes (a binding), so it is made from a seed.
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const treasury = await createKeyPairSignerFromPrivateKeyBytes(seed);
  chain.svm.airdrop(treasury.address, lamports(1_000n * 1_000_000_000n));
  await mintTokens(chain, mintAuthority, mint, treasury.address, 10n ** 15n);
  const treasurySecretKey = new Uint8Array([...seed, ...getAddressEncoder().encode(treasury.address)]);
  return { mintAuthority, mint, lookAlikeMint, treasury, treasurySecretKey };
}

const bigint = (v: unknown, name: string): bigint => {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${name} is required (base units, as a string)`);
  return BigInt(v);
};

/**
 * - `world` → `{ mint, lookAlikeMint, treasury, treasuryTokenAccount }`
 * - `wallet { tokens?, lookAlikeTokens?, tokenAccount? }` → `{ address }`: a funded wallet the
 *   server signs for, holding that many base units of our mint / the look-alike (and, with
 *   `tokenAccount: true` and no tokens, an empty token account for our mint).
 * - `tokenAccount { owner, mint?: 'ours' | 'lookAlike' }` → the owner's associated token address.
 * - `pay { from, amount, reference?, references?, to?: 'treasury' | <owner address>, mint?: 'ours' | 'lookAlike' }`
 *   → `{ signature, landed, err }`: a Solana Pay style transferChecked (the reference as a
 *   read-only key) into `to`'s token account, created in the same transaction when missing.
 *   `references` names several at once (a Solana Pay URL may carry more than one); with them the
 *   destination account must exist, as the account-creation instruction would not fit beside ~26.
 *   Sent without preflight, so a payment of more than the wallet holds lands as a failed transaction.
 * - `tokenBalance { owner }` → base units of our mint the owner's token account holds, as a string.
 * - `closeTokenAccount { owner }`: a wallet made by `wallet` closes its (empty) token account for our mint.
 * - `freezeTokenAccount { owner }`: the mint's freeze authority freezes the owner's token account:
 *   every transfer into it fails from then on.
 */
async function worldOp(
  chain: LocalChain,
  world: World,
  wallets: Map<string, KeyPairSigner>,
  body: Record<string, unknown>,
): Promise<unknown> {
  const mintOf = (which: unknown) => (which === 'lookAlike' ? world.lookAlikeMint : world.mint);
  switch (body.op) {
    case 'world':
      return {
        mint: world.mint,
        lookAlikeMint: world.lookAlikeMint,
        treasury: world.treasury.address,
        treasuryTokenAccount: await ataOf(world.treasury.address, world.mint),
      };
    case 'wallet': {
      const wallet = await fundedWallet(chain, 10n);
      wallets.set(wallet.address, wallet);
      const tokens = body.tokens === undefined ? 0n : bigint(body.tokens, 'tokens');
      if (tokens > 0n || body.tokenAccount === true) await mintTokens(chain, world.mintAuthority, world.mint, wallet.address, tokens);
      if (body.lookAlikeTokens !== undefined) {
        await mintTokens(chain, world.mintAuthority, world.lookAlikeMint, wallet.address, bigint(body.lookAlikeTokens, 'lookAlikeTokens'));
      }
      return { address: wallet.address };
    }
    case 'tokenAccount':
      return ataOf(address(String(body.owner)), mintOf(body.mint));
    case 'tokenBalance':
      return chain.tokenAmount(await ataOf(address(String(body.owner)), world.mint)).toString();
    case 'pay': {
      const from = wallets.get(String(body.from));
      if (!from) throw new Error('pay: `from` must be a wallet made by the `wallet` op');
      const mint = mintOf(body.mint);
      const owner = body.to === undefined || body.to === 'treasury' ? world.treasury.address : address(String(body.to));
      const destination = await ataOf(owner, mint);
      const transfer = getTransferCheckedInstruction({
        source: await ataOf(from.address, mint),
        mint,
        destination,
        authority: from,
        amount: bigint(body.amount, 'amount'),
        decimals: TEST_DECIMALS,
      });
      const references = Array.isArray(body.references)
        ? body.references.map(String)
        : typeof body.reference === 'string'
          ? [body.reference]
          : [];
      const withReferences = {
        ...transfer,
        accounts: [...transfer.accounts, ...references.map((r) => ({ address: address(r), role: AccountRole.READONLY }))],
      };
      const instructions: Instruction[] = Array.isArray(body.references)
        ? [withReferences]
        : [getCreateAssociatedTokenIdempotentInstruction({ payer: from, ata: destination, owner, mint }), withReferences];
      // Signed again if the blockhash rotated while signing (seen once in a loaded full run, the
      // 130-dust test, before signAndExecute did that here too).
      const result = await signAndExecute(chain, from, instructions);
      return { signature: result.signature, landed: result.landed, err: result.landed ? result.tx.err : result.err };
    }
    case 'closeTokenAccount': {
      const owner = wallets.get(String(body.owner));
      if (!owner) throw new Error('closeTokenAccount: `owner` must be a wallet made by the `wallet` op');
      const account = await ataOf(owner.address, world.mint);
      const result = await signAndExecute(chain, owner, [getCloseAccountInstruction({ account, destination: owner.address, owner })]);
      if (!result.landed || result.tx.err !== null)
        throw new Error(`closeTokenAccount failed: ${JSON.stringify(result.landed ? result.tx.err : result.err)}`);
      return null;
    }
    case 'freezeTokenAccount': {
      const account = await ataOf(address(String(body.owner)), world.mint);
      const instruction = getFreezeAccountInstruction({ account, mint: world.mint, owner: world.mintAuthority });
      const result = await signAndExecute(chain, world.mintAuthority, [instruction]);
      if (!result.landed || result.tx.err !== null)
        throw new Error(`freezeTokenAccount failed: ${JSON.stringify(result.landed ? result.tx.err : result.err)}`);
      return null;
    }
    case 'newAddress':
      return (await generateKeyPairSigner()).address;
    default:
      throw new Error(`unknown control op ${JSON.stringify(body.op)}`);
  }
}
