import { createKeyPairSignerFromBytes, getBase58Decoder } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { KNOWN_GENESIS_HASHES, loadTreasurySigner, parseSettlementConfig } from '../../../workers/settlement/config.ts';

// A 64-byte keypair as solana-keygen writes it; its public key is derived, not trusted.
async function keypairBytes(): Promise<Uint8Array> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return Uint8Array.from([...pkcs8.slice(-32), ...pub]);
}

const base = {
  ENVIRONMENT: 'production',
  SOLANA_RPC_URL: 'https://rpc.example.com',
  TOKEN_MINT: 'So11111111111111111111111111111111111111112',
};

describe('settlement config', () => {
  it('accepts the treasury key as a JSON byte array or base58, and pins mainnet in production', async () => {
    const bytes = await keypairBytes();
    const expected = (await createKeyPairSignerFromBytes(bytes)).address;
    for (const secret of [JSON.stringify([...bytes]), getBase58Decoder().decode(bytes)]) {
      const config = parseSettlementConfig({ ...base, TREASURY_SECRET_KEY: secret, TOKEN_DECIMALS: '6' });
      expect(config).toMatchObject({ decimals: 6, genesisHash: KNOWN_GENESIS_HASHES['mainnet-beta'], rpcTimeoutMs: 10_000 });
      expect((await loadTreasurySigner(config)).address).toBe(expected);
    }
  });

  it('checks the cluster in every environment: outside production SOLANA_GENESIS_HASH is required', async () => {
    const secret = JSON.stringify([...(await keypairBytes())]);
    for (const ENVIRONMENT of ['development', 'test']) {
      expect(() => parseSettlementConfig({ ...base, ENVIRONMENT, TREASURY_SECRET_KEY: secret })).toThrow(/SOLANA_GENESIS_HASH is required/);
      const local = KNOWN_GENESIS_HASHES.testnet;
      expect(parseSettlementConfig({ ...base, ENVIRONMENT, TREASURY_SECRET_KEY: secret, SOLANA_GENESIS_HASH: local }).genesisHash).toBe(
        local,
      );
    }
    const devnet = KNOWN_GENESIS_HASHES.devnet;
    expect(
      parseSettlementConfig({ ...base, ENVIRONMENT: 'production', TREASURY_SECRET_KEY: secret, SOLANA_GENESIS_HASH: devnet }).genesisHash,
    ).toBe(devnet);
  });

  it('fails with the names at fault', () => {
    expect(() => parseSettlementConfig({ ...base, TOKEN_MINT: 'nope', TREASURY_SECRET_KEY: '[1,2]' })).toThrow(/TOKEN_MINT/);
    expect(() => parseSettlementConfig({ ...base, TREASURY_SECRET_KEY: '[1,2]' })).toThrow(/TREASURY_SECRET_KEY/);
    expect(() => parseSettlementConfig({ ...base, SOLANA_RPC_URL: 'ftp://x', TREASURY_SECRET_KEY: 'x' })).toThrow(/SOLANA_RPC_URL/);
  });
});
