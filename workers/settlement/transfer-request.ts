import { findAssociatedTokenPda, TOKEN_PROGRAM_ADDRESS } from '@solana-program/token';
import { getAddressDecoder, type Address } from '@solana/kit';

// Solana Pay transfer requests (https://docs.solanapay.com/spec#transfer-request). A deposit is
// matched to an account by a fresh, random "reference" key the wallet adds as a read-only account
// to its transfer; the cron then finds the payment with getSignaturesForAddress(reference).

/** 32 random bytes in base58. Never reuse one across accounts: it is what ties a payment to an account. */
export function newReferenceKey(): Address {
  return getAddressDecoder().decode(crypto.getRandomValues(new Uint8Array(32)));
}

/** The associated token account of `owner` for `mint` (classic SPL Token program). */
export async function associatedTokenAccount(owner: Address, mint: Address): Promise<Address> {
  const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  return ata;
}

/** Where deposits must arrive to count: the treasury wallet's associated token account for our mint. */
export const treasuryTokenAccount = associatedTokenAccount;

export interface TransferRequest {
  /** The treasury's wallet (owner) address: Solana Pay wallets derive the token account from it. */
  recipient: Address;
  mint: Address;
  decimals: number;
  reference: Address;
  /** Base units; omitted lets the payer choose the amount. */
  amount?: bigint;
  label?: string;
  message?: string;
  memo?: string;
}

/** `solana:<recipient>?amount=…&spl-token=<mint>&reference=<ref>&label=…` */
export function buildTransferRequestUrl(request: TransferRequest): string {
  const params: string[] = [];
  if (request.amount !== undefined) params.push(`amount=${toUserUnits(request.amount, request.decimals)}`);
  params.push(`spl-token=${request.mint}`, `reference=${request.reference}`);
  if (request.label) params.push(`label=${encodeURIComponent(request.label)}`);
  if (request.message) params.push(`message=${encodeURIComponent(request.message)}`);
  if (request.memo) params.push(`memo=${encodeURIComponent(request.memo)}`);
  return `solana:${request.recipient}?${params.join('&')}`;
}

export interface DepositInstructions {
  /** Scan this as a QR code or open it in a wallet. */
  url: string;
  /** For wallets without Solana Pay: send `mint` tokens here and add `reference` yourself. */
  tokenAccount: Address;
  recipient: Address;
  mint: Address;
  reference: Address;
}

/** What the deposit route hands out. The caller stores `reference` → account before returning it. */
export async function depositInstructions(
  request: Omit<TransferRequest, 'reference'> & { reference?: Address },
): Promise<DepositInstructions> {
  const reference = request.reference ?? newReferenceKey();
  return {
    url: buildTransferRequestUrl({ ...request, reference }),
    tokenAccount: await treasuryTokenAccount(request.recipient, request.mint),
    recipient: request.recipient,
    mint: request.mint,
    reference,
  };
}

/** Solana Pay amounts are in whole tokens, without superfluous zeros ("1.5", not "1.500000"). */
function toUserUnits(baseUnits: bigint, decimals: number): string {
  if (baseUnits < 0n) throw new RangeError('amount must not be negative');
  const scale = 10n ** BigInt(decimals);
  const fraction = (baseUnits % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return fraction ? `${baseUnits / scale}.${fraction}` : `${baseUnits / scale}`;
}
