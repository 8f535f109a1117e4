import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import { confirmLink, consumeLinkToken, createLinkToken, hashLinkToken } from '../../../workers/accounts/links.ts';
import type { Env } from '../../../workers/env.ts';
import worker from '../../../workers/index.ts';
import type { RecordedRequest } from '../setup/discord-api.ts';
import { testDb } from './ledger.ts';

// Discord, as Discord does it: a test application keypair, interactions signed with Ed25519 over
// timestamp + raw body, sent to the real Worker with an env that points DISCORD_API_ROOT at the
// local stand-in (test/worker/setup/discord-api.ts). Deferred work runs in the request's
// ExecutionContext, and `send` waits for it, so follow-ups can be asserted right after.

declare module 'vitest' {
  interface ProvidedContext {
    discordApiPort: number;
  }
}

export const APP_ID = '1100000000000000001';
export const ADMIN_ID = '2200000000000000001';
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

let seq = 0;
/** Unique snowflake-shaped ids, also across test files running side by side. */
export const snowflake = () => `${Date.now()}${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}${String(++seq).padStart(3, '0')}`;

export interface DiscordHarness {
  keyPair: CryptoKeyPair;
  env: Env;
  channelId: string;
  sign(body: string, opts?: { timestamp?: number; keyPair?: CryptoKeyPair }): Promise<Request>;
  send(request: Request): Promise<Response>;
  interact(body: Record<string, unknown>): Promise<Response>;
  cron(scheduledTime: number): Promise<void>;
  /** What the stand-in received, for this harness's channel or interaction tokens. */
  received(filter?: (r: RecordedRequest) => boolean): Promise<RecordedRequest[]>;
}

export async function discordHarness(overrides: Partial<Record<string, string>> = {}): Promise<DiscordHarness> {
  const keyPair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = hex((await crypto.subtle.exportKey('raw', keyPair.publicKey)) as ArrayBuffer);
  const port = inject('discordApiPort');
  const channelId = snowflake();
  const testEnv = {
    ...env,
    DISCORD_PUBLIC_KEY: publicKey,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_BOT_TOKEN: 'test-discord-bot-token',
    DISCORD_API_ROOT: `http://127.0.0.1:${port}/api/v10`,
    DISCORD_GOVERNANCE_CHANNEL_ID: channelId,
    DISCORD_ADMIN_IDS: ADMIN_ID,
    ...overrides,
  } as unknown as Env;
  const sign = async (body: string, opts: { timestamp?: number; keyPair?: CryptoKeyPair } = {}) => {
    const timestamp = String(Math.floor((opts.timestamp ?? Date.now()) / 1000));
    const signature = await crypto.subtle.sign('Ed25519', (opts.keyPair ?? keyPair).privateKey, new TextEncoder().encode(timestamp + body));
    return new Request('http://gridplane.test/discord/interactions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature-ed25519': hex(signature), 'x-signature-timestamp': timestamp },
      body,
    });
  };
  const send = async (request: Request) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(request, testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return {
    keyPair,
    env: testEnv,
    channelId,
    sign,
    send,
    interact: async (body) => send(await sign(JSON.stringify(body))),
    cron: async (scheduledTime) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime, cron: '* * * * *' }), testEnv, ctx);
      await waitOnExecutionContext(ctx);
    },
    received: async (filter = () => true) => {
      const all = (await (await fetch(`http://127.0.0.1:${port}/__requests`)).json()) as RecordedRequest[];
      return all.filter(filter);
    },
  };
}

export interface InteractionOptions {
  userId?: string;
  token?: string;
  id?: string;
}

const base = (type: number, o: InteractionOptions) => ({
  id: o.id ?? snowflake(),
  application_id: APP_ID,
  type,
  token: o.token ?? `tok-${crypto.randomUUID()}`,
  guild_id: '3300000000000000001',
  channel_id: '3300000000000000002',
  // Guild admin permissions on the member: the bot must not care.
  member: { user: { id: o.userId ?? '4400000000000000001', username: 'tester' }, permissions: '8' },
});

export const ping = () => ({ ...base(1, {}), member: undefined });

/** `/name sub option:value`: sub-command names go in `path` after the command. */
export function command(path: string[], options: Record<string, string | number> = {}, o: InteractionOptions = {}) {
  const leaf = Object.entries(options).map(([name, value]) => ({ name, type: typeof value === 'number' ? 4 : 3, value }));
  const [name, sub] = path;
  return { ...base(2, o), data: { id: snowflake(), name, type: 1, options: sub ? [{ name: sub, type: 1, options: leaf }] : leaf } };
}

export function autocompleteOf(path: string[], focused: string, typed: string, o: InteractionOptions = {}) {
  const [name, sub] = path;
  const leaf = [{ name: focused, type: 3, value: typed, focused: true }];
  return { ...base(4, o), data: { id: snowflake(), name, type: 1, options: sub ? [{ name: sub, type: 1, options: leaf }] : leaf } };
}

export function buttonPress(customId: string, o: InteractionOptions = {}) {
  return { ...base(3, o), message: { id: snowflake() }, data: { custom_id: customId, component_type: 2 } };
}

/** Links a Discord user to an account through the real link-token path. */
export async function linkDiscordUser(userId: string, accountId: string): Promise<void> {
  const db = testDb();
  const { token, ref } = await createLinkToken(db, 'discord', userId);
  const linked = await consumeLinkToken(db, await hashLinkToken(token), accountId, Date.now());
  if (!linked) throw new Error('link failed');
  // The Discord user's Confirm (the bot's button calls the same function).
  if (!(await confirmLink(db, 'discord', userId, ref, Date.now()))) throw new Error('link not confirmed');
}
