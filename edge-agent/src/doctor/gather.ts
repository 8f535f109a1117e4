// The I/O half of `doctor`: runs nvidia-smi and docker, reads the key file, asks the control plane.
// Every step catches its own failure and records it as a fact, so one broken thing never hides
// the checks after it.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { loadConfig, withOverrides, type AgentConfig, type ConfigOverrides } from '../config.ts';
import { groupGpus, runNvidiaSmi } from '../gpu-detect.ts';
import { keyPath, loadIdentity, type Identity } from '../identity.ts';
import { createSignedFetch } from '../signed-fetch.ts';
import { DEFAULT_VERIFY_IMAGE } from '../verification/docker-solver.ts';
import type { DoctorFacts, Failure, NodeFacts } from './checks.ts';

export interface GatherOptions {
  home: string;
  overrides?: ConfigOverrides;
  dockerPath?: string;
  verifyImage?: string;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  timeoutMs?: number;
}

const NodeViewSchema = z.looseObject({
  status: z.string(),
  simulated: z.boolean().default(false),
  suspended: z.boolean().default(false),
  eligible: z.boolean().default(false),
  verifiedAt: z.string().nullable().default(null),
  stake: z.string().default('0'),
  gpus: z.array(z.looseObject({ count: z.number().int().nonnegative() })).default([]),
});
const ParamsSchema = z.object({ params: z.array(z.looseObject({ name: z.string(), value: z.union([z.string(), z.number()]) })) });

export async function gatherFacts(options: GatherOptions): Promise<DoctorFacts> {
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const docker = options.dockerPath ?? 'docker';

  let config: AgentConfig | null = null;
  let configFact: DoctorFacts['config'];
  try {
    config = withOverrides(await loadConfig(options.home), options.overrides);
    configFact = {
      ok: true,
      controlPlaneUrl: config.controlPlaneUrl,
      simulateGpus: config.simulateGpus,
      nvidiaSmiPath: config.nvidiaSmiPath,
    };
  } catch (err) {
    configFact = { ok: false, ...failure(err) };
  }

  const { fact: key, identity } = await keyFacts(options.home);

  let gpus: DoctorFacts['gpus'] = { kind: 'unknown' };
  if (config?.simulateGpus) gpus = { kind: 'simulated', spec: config.simulateGpus };
  else if (config) {
    try {
      gpus = { kind: 'read', inventory: groupGpus(await runNvidiaSmi({ path: config.nvidiaSmiPath, timeoutMs })) };
    } catch (err) {
      gpus = { kind: 'error', ...failure(err) };
    }
  }

  let dockerFact: DoctorFacts['docker'] = { kind: 'not_needed' };
  let verifyImage: DoctorFacts['verifyImage'] = null;
  if (!config?.simulateGpus) {
    try {
      const serverVersion = (await run(docker, ['version', '--format', '{{.Server.Version}}'], timeoutMs)).trim();
      const runtimes = Object.keys(
        JSON.parse((await run(docker, ['info', '--format', '{{json .Runtimes}}'], timeoutMs)).trim() || '{}') as Record<string, unknown>,
      ).sort();
      dockerFact = { kind: 'ok', serverVersion, runtimes };
      const image = options.verifyImage ?? DEFAULT_VERIFY_IMAGE;
      verifyImage = { image, present: await succeeds(docker, ['image', 'inspect', '--format', '{{.Id}}', image], timeoutMs) };
    } catch (err) {
      dockerFact = { kind: 'error', ...failure(err) };
    }
  }

  // One plain request: is the control plane there, and what time does it say it is?
  let reach: DoctorFacts['reach'] = { ok: false, url: null, code: 'no_config', message: 'no readable config' };
  let node: DoctorFacts['node'] = { kind: 'unknown' };
  let minStakePerGpu: string | null = null;
  let signedClock: DoctorFacts['signedClock'] = null;
  if (config) {
    const base = config.controlPlaneUrl.replace(/\/+$/, '');
    const url = `${base}/v1/governance/params`;
    const sentAtMs = now();
    try {
      const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      const receivedAtMs = now();
      reach = { ok: true, url: base, status: res.status, sentAtMs, receivedAtMs, serverDate: res.headers.get('date') };
      const params = ParamsSchema.safeParse(await res.json().catch(() => null));
      const value = params.success ? params.data.params.find((p) => p.name === 'min_stake_per_gpu')?.value : undefined;
      minStakePerGpu = typeof value === 'string' ? value : null;
    } catch (err) {
      reach = { ok: false, url: base, ...failure(err) };
    }
    if (reach.ok && identity) {
      node = await nodeFacts(fetchFn, base, identity.nodeId, timeoutMs);
      signedClock = await signedClockFact(identity, config.controlPlaneUrl, fetchFn, now, timeoutMs);
    }
  }

  return {
    nodeVersion: process.versions.node,
    home: options.home,
    config: configFact,
    key,
    gpus,
    docker: dockerFact,
    verifyImage,
    reach,
    node,
    signedClock,
    minStakePerGpu,
  };
}

async function keyFacts(home: string): Promise<{ fact: DoctorFacts['key']; identity: Identity | null }> {
  const path = keyPath(home);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return { fact: { path, exists: false }, identity: null };
  }
  let identity: Identity | null = null;
  let loadError: Failure | null = null;
  try {
    identity = await loadIdentity(home);
  } catch (err) {
    const f = failure(err);
    // The mode is its own check; only report other reasons the key cannot be used.
    if (f.code !== 'insecure_key_file') loadError = f;
  }
  const processUid = typeof process.getuid === 'function' ? process.getuid() : info.uid;
  return {
    fact: { path, exists: true, mode: info.mode, ownerUid: info.uid, processUid, nodeId: identity?.nodeId ?? null, loadError },
    identity,
  };
}

/**
 * The control plane checks a signed request's timestamp before anything else (even whether the
 * node is registered): `stale_request` means the clocks differ by more than it allows. A read-only
 * route, so asking changes nothing.
 */
async function signedClockFact(
  identity: Identity,
  url: string,
  fetchFn: typeof globalThis.fetch,
  now: () => number,
  timeoutMs: number,
): Promise<DoctorFacts['signedClock']> {
  try {
    const send = createSignedFetch(identity, url, { fetch: fetchFn, now });
    const res = await send({
      method: 'GET',
      path: `/v1/nodes/${encodeURIComponent(identity.nodeId)}/challenges`,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
    return { stale: res.status === 401 && body?.error?.code === 'stale_request' };
  } catch {
    return null;
  }
}

async function nodeFacts(fetchFn: typeof globalThis.fetch, base: string, nodeId: string, timeoutMs: number): Promise<DoctorFacts['node']> {
  try {
    const res = await fetchFn(`${base}/v1/nodes/${encodeURIComponent(nodeId)}`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    if (res.status === 404) return { kind: 'not_found' };
    if (!res.ok)
      return {
        kind: 'error',
        code: `http_${res.status}`,
        message: `GET /v1/nodes/${nodeId} answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
      };
    const view = NodeViewSchema.parse(await res.json());
    const facts: NodeFacts = {
      status: view.status,
      simulated: view.simulated,
      suspended: view.suspended,
      eligible: view.eligible,
      verifiedAt: view.verifiedAt,
      stake: view.stake,
      gpuCount: view.gpus.reduce((n, g) => n + g.count, 0),
    };
    return { kind: 'found', view: facts };
  } catch (err) {
    return { kind: 'error', ...failure(err) };
  }
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ENOENT')
        return reject(
          Object.assign(new Error(`${file} not found: Docker is not installed (or not on PATH)`), { code: 'docker_not_found' }),
        );
      const said =
        (stderr || stdout)
          .trim()
          .split('\n')
          .find((l) => l.trim() !== '') ?? e.message;
      reject(Object.assign(new Error(`${file} ${args[0]}: ${said}`), { code: 'docker_failed' }));
    });
  });
}

function succeeds(file: string, args: string[], timeoutMs: number): Promise<boolean> {
  return run(file, args, timeoutMs).then(
    () => true,
    () => false,
  );
}

function failure(err: unknown): Failure {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const cause = (err as { cause?: unknown }).cause;
    // fetch says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is its cause.
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    return { code: typeof code === 'string' ? code : err.name, message: `${err.message}${reason}` };
  }
  return { code: 'error', message: String(err) };
}
