// A browser wallet for tests: it announces itself through the Wallet Standard events exactly as
// `@wallet-standard/wallet`'s registerWallet does, connects one account, and signs messages
// with an Ed25519 key made in Node (WebCrypto in the page). `installStandInWallet` runs in the
// page through `page.addInitScript`, before any of the page's own script, so it must not
// close over anything.
import { webcrypto } from 'node:crypto';
import type { Page } from 'playwright-core';
import { encodeBase58 } from '../../../protocol/base58.ts';

export interface TestKey {
  address: string;
  publicKey: string;
  pkcs8: string;
}

export async function newTestKey(): Promise<TestKey> {
  const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey));
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { address: encodeBase58(raw), publicKey: Buffer.from(raw).toString('base64'), pkcs8: Buffer.from(pkcs8).toString('base64') };
}

export interface StandInOptions {
  key: TestKey;
  name: string;
  /** Decline every signMessage as a person pressing "Cancel" would (code 4001). */
  rejectSigning?: boolean;
  /** Also register, 300 ms after load, a second Solana wallet with this name (the late path). */
  lateWalletName?: string;
  /** Also register a wallet that speaks only Ethereum; the page must not list it. */
  ethereumOnlyName?: string;
}

/** What the stand-in saw, readable through `page.evaluate(() => window.__standIn)`. */
export interface StandInLog {
  connects: number;
  signed: string[];
  rejected: number;
}

export async function addStandInWallet(page: Page, options: StandInOptions): Promise<void> {
  await page.addInitScript(installStandInWallet, options);
}

function installStandInWallet(o: StandInOptions): void {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#6d28d9"/><path d="M9 16h14M16 9v14" stroke="#fff" stroke-width="3"/></svg>';
  const icon = `data:image/svg+xml;base64,${btoa(svg)}`;
  const fromBase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  const key = crypto.subtle.importKey('pkcs8', fromBase64(o.key.pkcs8), { name: 'Ed25519' }, false, ['sign']);
  const log: StandInLog = { connects: 0, signed: [], rejected: 0 };
  (window as unknown as { __standIn: StandInLog }).__standIn = log;

  const account = Object.freeze({
    address: o.key.address,
    publicKey: fromBase64(o.key.publicKey),
    chains: ['solana:mainnet', 'solana:devnet'],
    features: ['solana:signMessage'],
  });

  type Input = { account: { address: string }; message: Uint8Array<ArrayBuffer> };
  function wallet(name: string, chains: string[]) {
    const w = {
      version: '1.0.0',
      name,
      icon,
      chains,
      accounts: [] as (typeof account)[],
      features: {
        'standard:connect': {
          version: '1.0.0',
          connect: async () => {
            log.connects++;
            w.accounts = [account];
            return { accounts: w.accounts };
          },
        },
        'standard:events': { version: '1.0.0', on: () => () => undefined },
        'solana:signMessage': {
          version: '1.0.0',
          signMessage: (...inputs: Input[]) =>
            Promise.all(
              inputs.map(async ({ account: asked, message }) => {
                if (asked.address !== account.address) throw new Error('unknown account');
                if (o.rejectSigning) {
                  log.rejected++;
                  throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
                }
                log.signed.push(new TextDecoder().decode(message));
                const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', await key, message));
                return { signedMessage: message, signature };
              }),
            ),
        },
      },
    };
    return w;
  }

  // registerWallet(): announce now (an app already listening registers it at once) and answer
  // the app's app-ready event (an app that starts later asks for it).
  function registerWallet(w: ReturnType<typeof wallet>) {
    const callback = ({ register }: { register: (w: unknown) => void }) => register(w);
    window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
    window.addEventListener('wallet-standard:app-ready', (event) => callback((event as CustomEvent).detail));
  }

  registerWallet(wallet(o.name, ['solana:mainnet', 'solana:devnet']));
  if (o.ethereumOnlyName) registerWallet(wallet(o.ethereumOnlyName, ['eip155:1']));
  const late = o.lateWalletName;
  if (late) window.addEventListener('load', () => setTimeout(() => registerWallet(wallet(late, ['solana:devnet'])), 300));
}
