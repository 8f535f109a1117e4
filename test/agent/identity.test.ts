import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBase58 } from '../../protocol/base58.ts';
import { initIdentity, loadIdentity } from '../../edge-agent/src/identity.ts';
import { readPublicKey, tempDir } from './helpers/index.ts';

describe('device identity', () => {
  it('creates an ed25519 key file with mode 0600 in a new 0700 home', async () => {
    const home = join(await tempDir(), 'agent');
    const { created, path } = await initIdentity(home);
    expect(created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    const pem = await readFile(path, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519');
  });

  it('uses the base58 of the raw 32-byte public key as node id', async () => {
    const home = await tempDir();
    const { identity } = await initIdentity(home);
    const { nodeId } = await readPublicKey(home);
    expect(identity.nodeId).toBe(nodeId);
    expect(decodeBase58(identity.nodeId)).toHaveLength(32);
    expect(Buffer.from(identity.publicKey).toString('base64url')).toBe(
      createPublicKey(createPrivateKey(await readFile(join(home, 'device-key.pem'), 'utf8'))).export({ format: 'jwk' }).x,
    );
  });

  it('signs with the stored key', async () => {
    const home = await tempDir();
    const { identity } = await initIdentity(home);
    const { publicKey } = await readPublicKey(home);
    const message = new TextEncoder().encode('hello');
    const signature = await identity.sign(message);
    expect(signature).toHaveLength(64);
    expect(verify(null, message, publicKey, signature)).toBe(true);
    expect(verify(null, new TextEncoder().encode('hellO'), publicKey, signature)).toBe(false);
  });

  it('never replaces an existing key', async () => {
    const home = await tempDir();
    const first = await initIdentity(home);
    const second = await initIdentity(home);
    expect(second.created).toBe(false);
    expect(second.identity.nodeId).toBe(first.identity.nodeId);
  });

  it.each([0o644, 0o640, 0o604])('refuses a key file with mode %s, like ssh', async (mode) => {
    const home = await tempDir();
    const { path } = await initIdentity(home);
    await chmod(path, mode);
    await expect(loadIdentity(home)).rejects.toMatchObject({
      code: 'insecure_key_file',
      message: expect.stringContaining(`permissions 0${mode.toString(8)} for ${path} are too open`),
    });
    await chmod(path, 0o600);
    await expect(loadIdentity(home)).resolves.toMatchObject({ nodeId: expect.any(String) });
  });

  it('says to run init when there is no key', async () => {
    await expect(loadIdentity(await tempDir())).rejects.toMatchObject({ code: 'not_initialised' });
  });
});
