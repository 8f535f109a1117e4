// The agent's view of the control plane's HTTP API: one method per route, every response parsed
// with a schema, every failure turned into a ControlPlaneError the daemon can decide on.
import { z } from 'zod';
import { AgentError } from './errors.ts';
import { HeartbeatAnswerSchema, type heartbeatSchema, type registerNodeSchema } from '../../protocol/node-messages.ts';
import { ProbePointSchema, type ProbePoint } from './probes.ts';
import type { SignedFetch } from './signed-fetch.ts';

/**
 * unreachable: no HTTP answer (refused, DNS, timeout). server: 5xx, or a 2xx we cannot read.
 * rejected: 4xx; `serverCode`/`serverMessage` carry the body's error.
 */
export type ControlPlaneFailure = 'unreachable' | 'server' | 'rejected';

export class ControlPlaneError extends AgentError {
  constructor(
    readonly failure: ControlPlaneFailure,
    message: string,
    readonly status: number | null,
    readonly serverCode: string | null,
    options?: { cause?: unknown },
  ) {
    super(serverCode ?? `control_plane_${failure}`, message, options);
  }
}

const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const NodeSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  name: z.string().optional(),
  lastSeenAt: z.union([z.string(), z.number()]).nullish(),
});
export type NodeView = z.infer<typeof NodeSchema>;

/** The heartbeat answer as the protocol declares it (protocol/node-messages.ts). */
export const HeartbeatResponseSchema = HeartbeatAnswerSchema;
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

/** POST /v1/nodes and the heartbeat, typed by the schemas the Worker validates them with. */
export type RegistrationBody = z.input<typeof registerNodeSchema>;
export type HeartbeatBody = z.input<typeof heartbeatSchema>;

export interface ControlPlaneClientOptions {
  signedFetch: SignedFetch;
  /** Per request; the caller's signal still aborts sooner. */
  timeoutMs?: number;
}

export class ControlPlaneClient {
  readonly #fetch: SignedFetch;
  readonly #timeoutMs: number;

  constructor(options: ControlPlaneClientOptions) {
    this.#fetch = options.signedFetch;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  async register(body: RegistrationBody, signal?: AbortSignal): Promise<{ created: boolean; node: NodeView }> {
    const { status, json } = await this.#call('POST', '/v1/nodes', body, signal);
    return { created: status === 201, node: parseBody(NodeSchema, json, 'POST /v1/nodes', status) };
  }

  async heartbeat(nodeId: string, body: HeartbeatBody, signal?: AbortSignal): Promise<HeartbeatResponse> {
    const path = `/v1/nodes/${encodeURIComponent(nodeId)}/heartbeat`;
    const { status, json } = await this.#call('POST', path, body, signal);
    return parseBody(HeartbeatResponseSchema, json, `POST ${path}`, status);
  }

  /** Reports a job event; `gone` when the control plane says the job is not this node's (409/404). */
  async jobEvent(nodeId: string, jobId: string, event: unknown, signal?: AbortSignal): Promise<'ok' | 'gone'> {
    const path = `/v1/nodes/${encodeURIComponent(nodeId)}/jobs/${encodeURIComponent(jobId)}/events`;
    try {
      await this.#call('POST', path, event, signal);
      return 'ok';
    } catch (err) {
      if (err instanceof ControlPlaneError && (err.serverCode === 'job_not_assigned' || err.serverCode === 'job_not_found')) return 'gone';
      // Other refusals will not change on a retry: a malformed event is a bug, not a reason to loop.
      if (
        err instanceof ControlPlaneError &&
        err.failure === 'rejected' &&
        err.status !== 408 &&
        err.status !== 429 &&
        err.serverCode !== 'job_busy' &&
        err.serverCode !== 'stale_request' &&
        err.serverCode !== 'replayed_request'
      )
        return 'gone';
      throw err;
    }
  }

  async getNode(nodeId: string, signal?: AbortSignal): Promise<NodeView> {
    const path = `/v1/nodes/${encodeURIComponent(nodeId)}`;
    const { status, json } = await this.#call('GET', path, undefined, signal);
    return parseBody(NodeSchema, json, `GET ${path}`, status);
  }

  async listProbes(signal?: AbortSignal): Promise<ProbePoint[]> {
    const { status, json } = await this.#call('GET', '/v1/probes', undefined, signal);
    return parseBody(z.array(ProbePointSchema), json, 'GET /v1/probes', status);
  }

  async #call(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; json: unknown }> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await untilAborted(this.#fetch({ method, path, body, signal: combined }), combined);
      text = await untilAborted(res.text(), combined);
    } catch (err) {
      // The caller stopping us is not a control-plane failure; let it through as it is.
      if (signal?.aborted) throw err;
      const why = timeout.aborted ? `no answer within ${this.#timeoutMs} ms` : describeNetworkError(err);
      throw new ControlPlaneError('unreachable', `control plane unreachable (${method} ${path}): ${why}`, null, null, { cause: err });
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Left undefined; the checks below say what was wrong.
    }
    if (res.ok) return { status: res.status, json };
    const parsed = ErrorBodySchema.safeParse(json);
    const code = parsed.success ? parsed.data.error.code : null;
    const detail = parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : snippet(text);
    const failure: ControlPlaneFailure = res.status >= 500 ? 'server' : 'rejected';
    throw new ControlPlaneError(failure, `${method} ${path} → ${res.status} ${detail}`, res.status, code);
  }
}

function parseBody<T>(schema: z.ZodType<T>, json: unknown, what: string, status: number): T {
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new ControlPlaneError('server', `${what} → ${status} with an unexpected body: ${z.prettifyError(result.error)}`, status, null);
  }
  return result.data;
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine === '' ? '(empty body)' : oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/**
 * Settles with the abort even if the underlying promise never does. A fetch whose connection dies
 * while its body is read can leave `res.text()` pending forever; without this, a stop signal
 * would leave the daemon waiting on a promise that nothing will ever settle.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
