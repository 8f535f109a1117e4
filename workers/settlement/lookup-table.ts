import {
  AccountRole,
  address,
  getAddressDecoder,
  getAddressEncoder,
  getProgramDerivedAddress,
  type Address,
  type Instruction,
  type TransactionSigner,
} from '@solana/kit';

// The address lookup table program's four instructions the treasury uses, and its account layout,
// encoded by hand (bincode: a u32 tag, then the fields; about 40 lines instead of a dependency).
// A table is owned by the treasury (authority and payer): it holds our mint, the treasury's token
// account and recipients' token accounts, so a v0 payout names each recipient with a 1-byte index
// instead of a 32-byte key (see payout-plan.ts for what that buys).
//
// Rules of the program that settlement depends on (Agave's address-lookup-table program):
// - the table's address is derived from (authority, recent slot); the slot must be in SlotHashes,
//   i.e. one of the last 512 slots, so a create that never landed cannot land later;
// - addresses appended in slot S are usable from slot S+1 only (we use them once the extension is
//   finalized, which is later);
// - a deactivated table stays usable while its deactivation slot is in SlotHashes (~512 slots)
//   and can be closed (its rent back to the treasury) only after that.

export const LOOKUP_TABLE_PROGRAM = address('AddressLookupTab1e1111111111111111111111111');
const SYSTEM_PROGRAM = address('11111111111111111111111111111111');

/** Addresses one table can hold. */
export const LOOKUP_TABLE_MAX_ADDRESSES = 256;
/** Bytes before the first address. */
export const LOOKUP_TABLE_HEADER_BYTES = 56;
/** A table's deactivation slot while it is active. */
export const ACTIVE_DEACTIVATION_SLOT = 2n ** 64n - 1n;
/** How long SlotHashes remembers a slot: the cooldown between deactivating a table and closing it. */
export const SLOT_HASHES_SLOTS = 512;
/**
 * Addresses one extension transaction carries (legacy, treasury-signed, 32 bytes each): 28 fit
 * next to the create instruction with room to spare, and the same number is used for every
 * extension (test/unit/settlement/payouts-v0.test.ts builds the create + 28 one).
 */
export const ADDRESSES_PER_EXTENSION = 28;

export async function lookupTableAddress(authority: Address, recentSlot: bigint): Promise<{ address: Address; bump: number }> {
  const [pda, bump] = await getProgramDerivedAddress({
    programAddress: LOOKUP_TABLE_PROGRAM,
    seeds: [getAddressEncoder().encode(authority), u64(recentSlot)],
  });
  return { address: pda, bump };
}

export function createLookupTableInstruction(input: {
  table: Address;
  treasury: TransactionSigner;
  recentSlot: bigint;
  bump: number;
}): Instruction {
  const data = concat(u32(0), u64(input.recentSlot), new Uint8Array([input.bump]));
  return {
    programAddress: LOOKUP_TABLE_PROGRAM,
    accounts: [
      { address: input.table, role: AccountRole.WRITABLE },
      signerMeta(input.treasury, AccountRole.READONLY_SIGNER), // authority
      signerMeta(input.treasury, AccountRole.WRITABLE_SIGNER), // payer of the rent
      { address: SYSTEM_PROGRAM, role: AccountRole.READONLY },
    ],
    data,
  };
}

export function extendLookupTableInstruction(input: {
  table: Address;
  treasury: TransactionSigner;
  addresses: readonly Address[];
}): Instruction {
  const encoder = getAddressEncoder();
  const data = concat(u32(2), u64(BigInt(input.addresses.length)), ...input.addresses.map((a) => new Uint8Array(encoder.encode(a))));
  return {
    programAddress: LOOKUP_TABLE_PROGRAM,
    accounts: [
      { address: input.table, role: AccountRole.WRITABLE },
      signerMeta(input.treasury, AccountRole.READONLY_SIGNER),
      signerMeta(input.treasury, AccountRole.WRITABLE_SIGNER),
      { address: SYSTEM_PROGRAM, role: AccountRole.READONLY },
    ],
    data,
  };
}

export function deactivateLookupTableInstruction(input: { table: Address; treasury: TransactionSigner }): Instruction {
  return {
    programAddress: LOOKUP_TABLE_PROGRAM,
    accounts: [{ address: input.table, role: AccountRole.WRITABLE }, signerMeta(input.treasury, AccountRole.READONLY_SIGNER)],
    data: u32(3),
  };
}

/** Closes a deactivated, cooled-down table; its rent goes back to the treasury. */
export function closeLookupTableInstruction(input: { table: Address; treasury: TransactionSigner }): Instruction {
  return {
    programAddress: LOOKUP_TABLE_PROGRAM,
    accounts: [
      { address: input.table, role: AccountRole.WRITABLE },
      signerMeta(input.treasury, AccountRole.READONLY_SIGNER),
      { address: input.treasury.address, role: AccountRole.WRITABLE }, // rent recipient
    ],
    data: u32(4),
  };
}

export interface LookupTableState {
  /** ACTIVE_DEACTIVATION_SLOT while active. */
  deactivationSlot: bigint;
  lastExtendedSlot: bigint;
  authority: Address | null;
  addresses: Address[];
}

/** Decodes a lookup table account's data; null when it is not one (uninitialized or foreign). */
export function decodeLookupTable(data: Uint8Array): LookupTableState | null {
  if (data.length < LOOKUP_TABLE_HEADER_BYTES || (data.length - LOOKUP_TABLE_HEADER_BYTES) % 32 !== 0) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== 1) return null; // 1 = LookupTable (0 would be Uninitialized)
  const decoder = getAddressDecoder();
  const addresses: Address[] = [];
  for (let at = LOOKUP_TABLE_HEADER_BYTES; at < data.length; at += 32) addresses.push(decoder.decode(data.subarray(at, at + 32)));
  return {
    deactivationSlot: view.getBigUint64(4, true),
    lastExtendedSlot: view.getBigUint64(12, true),
    authority: data[21] === 1 ? decoder.decode(data.subarray(22, 54)) : null,
    addresses,
  };
}

function signerMeta(signer: TransactionSigner, role: AccountRole.READONLY_SIGNER | AccountRole.WRITABLE_SIGNER) {
  return { address: signer.address, role, signer };
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
