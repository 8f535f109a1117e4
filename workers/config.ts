import * as z from 'zod';
import type { Env } from './env.ts';
import { DEFAULT_ROUTING_WEIGHTS, RoutingWeightsSchema, type RoutingWeights } from './routing/routing-weights.ts';
import { economyConfigShape } from './rewards/economy-config.ts';

const intFromString = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

// An empty value in .dev.vars (`DISCORD_BOT_TOKEN=`) means "not set", not "invalid".
const unsetIfEmpty = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const configSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'test', 'production']),
  ...economyConfigShape,
  ADMIN_TOKEN: z.string().min(16).optional(),
  TOKEN_DECIMALS: intFromString(0, 12, 6),
  HEARTBEAT_INTERVAL_S: intFromString(1, 3600, 30),
  HEARTBEAT_SHARDS: intFromString(1, 1024, 32),
  LIVE_FOLD_INTERVAL_S: intFromString(1, 86_400, 900),
  EXPLORER_CACHE_S: intFromString(0, 300, 5),
  /** Jobs (workers/jobs/README.md): protocol fee in basis points of what a job is billed. */
  JOB_FEE_BPS: intFromString(0, 10_000, 1000),
  JOB_ACCEPT_TIMEOUT_S: intFromString(1, 3600, 30),
  JOB_QUEUE_TIMEOUT_S: intFromString(10, 86_400, 600),
  JOB_MAX_ATTEMPTS: intFromString(1, 20, 3),
  JOB_OVERDUE_GRACE_S: intFromString(0, 3600, 60),
  /** Endpoints (workers/endpoints/README.md): the hold covers this many seconds of the live replicas ahead. */
  ENDPOINT_HOLD_AHEAD_S: intFromString(60, 86_400, 900),
  /** Alert the renter when balance and hold together cover less than this many seconds. */
  ENDPOINT_LOW_BALANCE_S: intFromString(60, 30 * 86_400, 3600),
  /** Stop the replicas when the hold covers less than this many seconds and cannot be refilled. */
  ENDPOINT_STOP_MARGIN_S: intFromString(10, 3600, 120),
  /** A demand point whose nearest replica is estimated slower than this (RTT, ms) is poorly served. */
  ENDPOINT_GOOD_RTT_MS: intFromString(1, 1000, 50),
  /** A replica not ready this long after placement, or unhealthy/unreachable this long, is replaced. */
  ENDPOINT_REPLICA_START_TIMEOUT_S: intFromString(10, 3600, 600),
  ENDPOINT_REPLICA_UNHEALTHY_S: intFromString(10, 3600, 120),
  /** JSON of RoutingWeightsSchema; unset: DEFAULT_ROUTING_WEIGHTS. */
  ROUTING_WEIGHTS: z.string().optional(),
  /** Domain in Sign-In With Solana messages; unset: the host the request came to. */
  SIWS_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+(:[0-9]{1,5})?$/i, 'must be a host name, optionally with a port')
    .optional(),
  /** Public origin of this Worker, for the links bots send (`/link?token=…`); unset: the origin the bot's webhook was called on. */
  PUBLIC_BASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .url({ protocol: /^https?$/ })
      .transform((u) => new URL(u).origin)
      .optional(),
  ),
  /** Chain ID in SIWS messages; unset: mainnet in production, devnet elsewhere. */
  SOLANA_CLUSTER: z.enum(['mainnet', 'devnet', 'testnet', 'localnet']).optional(),
  /** Live API keys one account may hold; a sign-in past it revokes the least recently used (workers/accounts/README.md). */
  API_KEYS_PER_ACCOUNT: intFromString(1, 1000, 20),
  /** Governance rules until a `param` proposal changes them (workers/governance/README.md). */
  GOVERNANCE_VOTING_PERIOD_S: intFromString(60, 30 * 86_400, 3 * 86_400),
  GOVERNANCE_QUORUM_BPS: intFromString(1, 10_000, 1000),
  GOVERNANCE_THRESHOLD_BPS: intFromString(0, 9_999, 5000),
  GOVERNANCE_TIMELOCK_S: intFromString(0, 30 * 86_400, 86_400),
  /** Whole tokens of stake an account needs to open a proposal. */
  GOVERNANCE_PROPOSAL_MIN_STAKE: intFromString(0, 1_000_000_000, 1000),
  /** How long an isolate trusts its copy of the parameter store. */
  PARAMS_CACHE_S: intFromString(0, 300, 10),
  DISCORD_APPLICATION_ID: unsetIfEmpty(z.string().regex(/^[0-9]{5,25}$/, 'must be a Discord snowflake')),
  DISCORD_PUBLIC_KEY: unsetIfEmpty(z.string().regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters')),
  DISCORD_BOT_TOKEN: unsetIfEmpty(z.string()),
  /** Discord REST base, with or without the version suffix; a local server in tests. */
  DISCORD_API_ROOT: z.preprocess((v) => (v === '' ? undefined : v), z.url().default('https://discord.com/api/v10')),
  /** Where new proposals, their live tally and their outcomes are posted. */
  DISCORD_GOVERNANCE_CHANNEL_ID: unsetIfEmpty(z.string().regex(/^[0-9]{5,25}$/, 'must be a Discord snowflake')),
  /** Comma-separated Discord user ids allowed to run admin commands (guild permissions are not enough). */
  DISCORD_ADMIN_IDS: z
    .string()
    .regex(/^\s*([0-9]{5,25}\s*(,\s*[0-9]{5,25}\s*)*)?$/, 'must be comma-separated Discord user ids')
    .default(''),
  // Telegram bot and operator alerts (bots/README.md, "Telegram"). Blank values mean unset.
  TELEGRAM_BOT_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[0-9]{3,20}:[A-Za-z0-9_-]{20,}$/, 'must look like 123456789:AA…')
      .optional(),
  ),
  TELEGRAM_WEBHOOK_SECRET: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16–256 characters of A-Z a-z 0-9 _ -')
      .optional(),
  ),
  TELEGRAM_API_ROOT: z.preprocess((v) => (v === '' ? undefined : v), z.url().default('https://api.telegram.org')),
  /** Numeric id of the Telegram chat (group or channel, the bot a member) where proposals, their live tally and outcomes are posted. */
  TELEGRAM_GOVERNANCE_CHAT_ID: unsetIfEmpty(z.string().regex(/^-?[0-9]{1,20}$/, 'must be a numeric Telegram chat id')),
  /** The bot's @username: commands in groups are addressed to it, and no request costs a getMe. */
  TELEGRAM_BOT_USERNAME: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{3,31}$/, 'must be a bot username')
      .default('gridplane_bot'),
  ),
  /** A webhook update still running after this answers 500 and gives its claim back, so Telegram retries it (bots/README.md). */
  TELEGRAM_HANDLER_TIMEOUT_MS: intFromString(100, 55_000, 25_000),
  /** Alerts for one chat arriving within this window go out as one message. */
  ALERT_GROUP_WINDOW_MS: intFromString(0, 60_000, 3000),
  /** Backoff after a failed send: doubles from the base up to the maximum. */
  ALERT_RETRY_BASE_MS: intFromString(100, 600_000, 2000),
  ALERT_RETRY_MAX_MS: intFromString(1000, 3_600_000, 600_000),
  /** A GPU at or above this temperature (°C) raises `gpu_hot` once, until it cools 5 °C below. */
  ALERT_GPU_TEMP_C: intFromString(40, 120, 85),
  /** Endpoint URL (workers/gateway/README.md): how long a request to an endpoint with no ready replica waits for one to start before 503. */
  ENDPOINT_COLD_START_WAIT_S: intFromString(1, 300, 60),
  /**
   * What a template rental runs (workers/templates): `image` (the real image, for Docker hosts) or
   * `process` (the SIMULATED stand-in server, for agents on the process runtime). Unset: `image`
   * in production, `process` elsewhere (tests and the local stack run process-runtime agents).
   */
  TEMPLATE_RUNTIME: z.enum(['image', 'process']).optional(),
});

export type Config = z.infer<typeof configSchema> & {
  /** A node that misses this many heartbeat intervals is offline. */
  missedHeartbeatsOffline: number;
  isDevelopment: boolean;
  routingWeights: RoutingWeights;
  solanaCluster: 'mainnet' | 'devnet' | 'testnet' | 'localnet';
  templateRuntime: 'image' | 'process';
};

const cache = new WeakMap<object, Config>();

/** Parsed once per env object; a bad configuration fails loudly with the offending names. */
export function getConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`gridplane configuration is invalid: ${names}`);
  }
  const config: Config = {
    ...parsed.data,
    missedHeartbeatsOffline: 3,
    isDevelopment: parsed.data.ENVIRONMENT !== 'production',
    routingWeights: parseRoutingWeights(parsed.data.ROUTING_WEIGHTS),
    solanaCluster: parsed.data.SOLANA_CLUSTER ?? (parsed.data.ENVIRONMENT === 'production' ? 'mainnet' : 'devnet'),
    templateRuntime: parsed.data.TEMPLATE_RUNTIME ?? (parsed.data.ENVIRONMENT === 'production' ? 'image' : 'process'),
  };
  cache.set(env, config);
  return config;
}

function parseRoutingWeights(json: string | undefined): RoutingWeights {
  if (json === undefined || json.trim() === '') return DEFAULT_ROUTING_WEIGHTS;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('gridplane configuration is invalid: ROUTING_WEIGHTS: not JSON');
  }
  const parsed = RoutingWeightsSchema.safeParse({
    ...DEFAULT_ROUTING_WEIGHTS,
    stakeHalfBaseUnits: String(DEFAULT_ROUTING_WEIGHTS.stakeHalfBaseUnits),
    ...(value as object),
  });
  if (!parsed.success)
    throw new Error(
      `gridplane configuration is invalid: ROUTING_WEIGHTS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
