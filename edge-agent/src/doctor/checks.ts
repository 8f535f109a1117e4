// Over 300 lines: one pure check per thing operators get wrong, in the order `doctor` prints them; each is short, and the list is the point.
// `gridplane-agent doctor`: what operators get wrong, each a pure function from gathered facts
// (doctor/gather.ts does the I/O) to a verdict that says how to fix it. Tests feed facts from
// stand-in docker/nvidia-smi scripts and from a real control plane.
import { MAX_CLOCK_SKEW_MS } from '../../../protocol/signed-request.ts';
import type { GpuInventoryEntry } from '../gpu-source.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  /** What was found, one line. */
  detail: string;
  /** What to do about it; present whenever status is warn or fail. */
  fix?: string;
}

/** A step that failed to produce its fact: the error's code and message. */
export interface Failure {
  code: string;
  message: string;
}

export interface DoctorFacts {
  nodeVersion: string;
  home: string;
  config: { ok: true; controlPlaneUrl: string; simulateGpus: string | null; nvidiaSmiPath: string } | ({ ok: false } & Failure);
  key:
    | { path: string; exists: false }
    | { path: string; exists: true; mode: number; ownerUid: number; processUid: number; nodeId: string | null; loadError: Failure | null };
  gpus:
    | { kind: 'simulated'; spec: string }
    | { kind: 'read'; inventory: GpuInventoryEntry[] }
    | ({ kind: 'error' } & Failure)
    | { kind: 'unknown' };
  docker: { kind: 'ok'; serverVersion: string; runtimes: string[] } | ({ kind: 'error' } & Failure) | { kind: 'not_needed' };
  verifyImage: { image: string; present: boolean } | null;
  /** One unsigned request to the control plane, timed, with its Date header. */
  reach:
    | { ok: true; url: string; status: number; sentAtMs: number; receivedAtMs: number; serverDate: string | null }
    | ({ ok: false; url: string | null } & Failure);
  node: { kind: 'found'; view: NodeFacts } | { kind: 'not_found' } | ({ kind: 'error' } & Failure) | { kind: 'unknown' };
  /**
   * A signed request stamped with this clock: refused as `stale_request` when the clocks are more
   * than MAX_CLOCK_SKEW_MS apart. Null when it could not be sent (no key, no control plane).
   */
  signedClock: { stale: boolean } | null;
  /** Governance's `min_stake_per_gpu` as a decimal string, or null when it could not be read. */
  minStakePerGpu: string | null;
}

/** The fields of GET /v1/nodes/{id} the checks read. */
export interface NodeFacts {
  status: string;
  simulated: boolean;
  suspended: boolean;
  eligible: boolean;
  verifiedAt: string | null;
  stake: string;
  gpuCount: number;
}

export const MIN_NODE = [20, 20] as const;

export function checkNode(version: string): CheckResult {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { id: 'node', status: 'ok', detail: `Node.js ${version}` }
    : {
        id: 'node',
        status: 'fail',
        detail: `Node.js ${version} is too old`,
        fix: `install Node.js ${MIN_NODE.join('.')} or later (https://nodejs.org, or your distribution's nodejs 20/22 packages)`,
      };
}

export function checkConfig(facts: DoctorFacts): CheckResult {
  const c = facts.config;
  if (c.ok)
    return {
      id: 'config',
      status: 'ok',
      detail: `${facts.home}/config.json: control plane ${c.controlPlaneUrl}${c.simulateGpus ? `, SIMULATED GPUs ${c.simulateGpus}` : ''}`,
    };
  const fix =
    c.code === 'not_initialised'
      ? `gridplane-agent init --home ${facts.home} --owner … (see gridplane-agent init --help)`
      : `correct ${facts.home}/config.json as the message says, or rewrite it with gridplane-agent init --force`;
  return { id: 'config', status: 'fail', detail: c.message, fix };
}

export function checkKey(facts: DoctorFacts): CheckResult {
  const k = facts.key;
  if (!k.exists)
    return {
      id: 'key',
      status: 'fail',
      detail: `no device key at ${k.path}`,
      fix: `gridplane-agent init --home ${facts.home} … creates it (restore a backup there instead if this node had one: a new key is a new node)`,
    };
  const octal = (k.mode & 0o777).toString(8).padStart(4, '0');
  if ((k.mode & 0o077) !== 0)
    return {
      id: 'key',
      status: 'fail',
      detail: `${k.path} has mode ${octal}: others can read the device key, and the agent refuses to start`,
      fix: `chmod 600 ${k.path}`,
    };
  if (k.ownerUid !== k.processUid) {
    return {
      id: 'key',
      status: 'fail',
      detail: `${k.path} belongs to uid ${k.ownerUid}, not to this user (uid ${k.processUid})`,
      fix: `run the agent as the key's owner, or chown that user ${k.path} (the service's User= must own the home)`,
    };
  }
  if (k.loadError)
    return {
      id: 'key',
      status: 'fail',
      detail: k.loadError.message,
      fix: `restore the key from its backup, or move it away and run gridplane-agent init (a new key is a new node)`,
    };
  return { id: 'key', status: 'ok', detail: `${k.path}: mode ${octal}, node ${k.nodeId}` };
}

export function checkGpus(facts: DoctorFacts): CheckResult {
  const g = facts.gpus;
  switch (g.kind) {
    case 'simulated':
      return {
        id: 'gpus',
        status: 'warn',
        detail: `SIMULATED GPUs (${g.spec}): jobs run as plain local processes, and a simulated node earns only on a development control plane`,
        fix: 'on a real GPU host: gridplane-agent init --force without --simulate-gpus',
      };
    case 'unknown':
      return { id: 'gpus', status: 'skip', detail: 'not checked: no readable config' };
    case 'read': {
      const count = g.inventory.reduce((n, e) => n + e.count, 0);
      if (count === 0)
        return {
          id: 'gpus',
          status: 'fail',
          detail: 'nvidia-smi ran but listed no GPU',
          fix: 'check that the GPUs are visible to this user and container (nvidia-smi -L)',
        };
      return {
        id: 'gpus',
        status: 'ok',
        detail: `nvidia-smi: ${g.inventory.map((e) => `${e.count}× ${e.model} (${e.vramMb} MiB)`).join(', ')}`,
      };
    }
    case 'error': {
      if (g.code === 'nvidia_smi_not_found')
        return {
          id: 'gpus',
          status: 'fail',
          detail: g.message,
          fix: 'install the NVIDIA driver for this GPU (nvidia-smi comes with it; on Ubuntu: sudo ubuntu-drivers install), then reboot; or set nvidiaSmiPath in config.json',
        };
      const driver = /exited with code 9|couldn't communicate with the nvidia driver|driver\/library version mismatch/i.test(g.message);
      return {
        id: 'gpus',
        status: 'fail',
        detail: g.message,
        fix: driver
          ? 'the NVIDIA driver is not loaded or does not match its libraries: reboot after a driver install or upgrade; check with dmesg | grep -i nvidia'
          : 'run nvidia-smi by hand and fix what it says; the agent needs its CSV query to work',
      };
    }
  }
}

export function checkDocker(facts: DoctorFacts): CheckResult {
  const d = facts.docker;
  if (d.kind === 'not_needed') return { id: 'docker', status: 'skip', detail: 'simulated GPUs: jobs run without Docker' };
  if (d.kind === 'ok') return { id: 'docker', status: 'ok', detail: `Docker Engine ${d.serverVersion}` };
  if (d.code === 'docker_not_found')
    return {
      id: 'docker',
      status: 'fail',
      detail: d.message,
      fix: 'install Docker Engine (https://docs.docker.com/engine/install/) and start it: sudo systemctl enable --now docker',
    };
  if (/permission denied/i.test(d.message)) {
    return {
      id: 'docker',
      status: 'fail',
      detail: d.message,
      fix: "let the agent's user use Docker: sudo usermod -aG docker $USER, then log in again (or restart the service)",
    };
  }
  if (/cannot connect to the docker daemon|is the docker daemon running/i.test(d.message)) {
    return { id: 'docker', status: 'fail', detail: d.message, fix: 'start the daemon: sudo systemctl enable --now docker' };
  }
  return { id: 'docker', status: 'fail', detail: d.message, fix: 'run docker version by hand and fix what it says' };
}

export function checkNvidiaToolkit(facts: DoctorFacts): CheckResult {
  const d = facts.docker;
  if (d.kind === 'not_needed') return { id: 'nvidia-toolkit', status: 'skip', detail: 'simulated GPUs: no containers get GPUs' };
  if (d.kind !== 'ok') return { id: 'nvidia-toolkit', status: 'skip', detail: 'not checked: Docker is not usable' };
  if (d.runtimes.includes('nvidia'))
    return { id: 'nvidia-toolkit', status: 'ok', detail: `Docker has the nvidia runtime (runtimes: ${d.runtimes.join(', ')})` };
  return {
    id: 'nvidia-toolkit',
    status: 'fail',
    detail: `Docker has no nvidia runtime (runtimes: ${d.runtimes.join(', ') || 'none'}): --gpus is likely to fail with "could not select device driver"`,
    fix: 'install the NVIDIA Container Toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), then: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker; test with docker run --rm --gpus all ubuntu nvidia-smi',
  };
}

export function checkVerifyImage(facts: DoctorFacts): CheckResult {
  const v = facts.verifyImage;
  if (v === null)
    return {
      id: 'verify-image',
      status: 'skip',
      detail: facts.docker.kind === 'not_needed' ? 'simulated GPUs answer challenges on the CPU' : 'not checked: Docker is not usable',
    };
  if (v.present) return { id: 'verify-image', status: 'ok', detail: `${v.image} is pulled` };
  return {
    id: 'verify-image',
    status: 'warn',
    detail: `${v.image} is not pulled yet; run pulls it at start, before answering the first challenge`,
    fix: `pull it now: docker pull ${v.image}`,
  };
}

export function checkReach(facts: DoctorFacts): CheckResult {
  const r = facts.reach;
  if (r.ok) {
    if (r.status >= 500)
      return { id: 'reach', status: 'fail', detail: `${r.url} answered ${r.status}`, fix: 'the control plane is failing; try again later' };
    return { id: 'reach', status: 'ok', detail: `${r.url} answered ${r.status} in ${Math.round(r.receivedAtMs - r.sentAtMs)} ms` };
  }
  if (r.url === null) return { id: 'reach', status: 'skip', detail: 'not checked: no readable config' };
  return {
    id: 'reach',
    status: 'fail',
    detail: `${r.url}: ${r.message}`,
    fix: 'check controlPlaneUrl in config.json (gridplane-agent status prints it), DNS, and any firewall or proxy between this host and it; it must be https://',
  };
}

/**
 * The Date header has whole seconds, and the answer was made somewhere between sending and
 * receiving: the skew is known to within half the round trip plus a second. Signed requests are
 * refused beyond MAX_CLOCK_SKEW_MS; a fifth of that is drift worth fixing before it bites.
 */
export function clockSkew(reach: {
  sentAtMs: number;
  receivedAtMs: number;
  serverDate: string;
}): { skewMs: number; uncertaintyMs: number } | null {
  const server = Date.parse(reach.serverDate);
  if (!Number.isFinite(server)) return null;
  const local = (reach.sentAtMs + reach.receivedAtMs) / 2;
  return { skewMs: server + 500 - local, uncertaintyMs: 500 + (reach.receivedAtMs - reach.sentAtMs) / 2 };
}

export function checkClock(facts: DoctorFacts): CheckResult {
  const r = facts.reach;
  if (!r.ok) return { id: 'clock', status: 'skip', detail: 'not checked: the control plane did not answer' };
  const fix = 'turn on time sync: sudo timedatectl set-ntp true (or start chrony/ntpd), then check timedatectl status';
  const limit = `${MAX_CLOCK_SKEW_MS / 1000} s`;
  if (facts.signedClock?.stale)
    return {
      id: 'clock',
      status: 'fail',
      detail: `the control plane refused a request signed with this clock's time as stale_request: the clocks are more than ${limit} apart`,
      fix,
    };
  const skew = r.serverDate === null ? null : clockSkew({ ...r, serverDate: r.serverDate });
  if (skew === null) {
    // No Date header (a local `wrangler dev` sends none): the signed request is the whole answer.
    return facts.signedClock
      ? {
          id: 'clock',
          status: 'ok',
          detail: `within ${limit} of the control plane's: it accepted a request signed with this clock's time (it sent no Date header to measure closer)`,
        }
      : {
          id: 'clock',
          status: 'skip',
          detail: 'not checked: the control plane sent no readable Date header, and no signed request could be made',
        };
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const ahead = skew.skewMs > 0 ? 'behind' : 'ahead of';
  const detail = `this clock is ${seconds(Math.abs(skew.skewMs))} s ± ${seconds(skew.uncertaintyMs)} s ${ahead} the control plane's`;
  if (Math.abs(skew.skewMs) - skew.uncertaintyMs > MAX_CLOCK_SKEW_MS)
    return {
      id: 'clock',
      status: 'fail',
      detail: `${detail}: signed requests are refused beyond ${MAX_CLOCK_SKEW_MS / 1000} s (stale_request)`,
      fix,
    };
  if (Math.abs(skew.skewMs) - skew.uncertaintyMs > MAX_CLOCK_SKEW_MS / 5)
    return { id: 'clock', status: 'warn', detail: `${detail}; requests are refused beyond ${MAX_CLOCK_SKEW_MS / 1000} s`, fix };
  return { id: 'clock', status: 'ok', detail };
}

export function checkRegistration(facts: DoctorFacts): CheckResult {
  const n = facts.node;
  if (n.kind === 'unknown') return { id: 'registration', status: 'skip', detail: 'not checked: no node id or no control plane' };
  if (n.kind === 'not_found')
    return {
      id: 'registration',
      status: 'fail',
      detail: 'the control plane does not know this node',
      fix: 'gridplane-agent register (run registers by itself at start)',
    };
  if (n.kind === 'error') return { id: 'registration', status: 'fail', detail: n.message, fix: 'see the reachability check above' };
  const v = n.view;
  if (v.suspended)
    return {
      id: 'registration',
      status: 'fail',
      detail: 'the node is registered but suspended by the operators of the network',
      fix: 'ask the network operators why (a slash or abuse report); it gets no jobs meanwhile',
    };
  if (v.status !== 'online')
    return {
      id: 'registration',
      status: 'warn',
      detail: `registered, ${v.status}`,
      fix: 'start the agent (gridplane-agent run, or the service: systemctl start gridplane-agent)',
    };
  return { id: 'registration', status: 'ok', detail: `registered, ${v.status}, ${v.gpuCount} GPU${v.gpuCount === 1 ? '' : 's'}` };
}

/** Decimal token strings ("200.000000") as integers at a shared scale; never floats. */
export function compareDecimal(a: string, b: string): { a: bigint; b: bigint; scale: number } {
  const parts = [a, b].map((s) => {
    if (!/^\d+(\.\d+)?$/.test(s)) throw new Error(`not a decimal amount: ${JSON.stringify(s)}`);
    const [whole, frac = ''] = s.split('.');
    return { whole: whole!, frac };
  });
  const scale = Math.max(parts[0]!.frac.length, parts[1]!.frac.length);
  const [x, y] = parts.map((p) => BigInt(p.whole + p.frac.padEnd(scale, '0')));
  return { a: x!, b: y!, scale };
}

export function formatScaled(value: bigint, scale: number): string {
  if (scale === 0) return value.toString();
  const text = value.toString().padStart(scale + 1, '0');
  return `${text.slice(0, -scale)}.${text.slice(-scale)}`;
}

export function checkEligibility(facts: DoctorFacts): CheckResult {
  const n = facts.node;
  if (n.kind !== 'found') return { id: 'eligibility', status: 'skip', detail: 'not checked: the node is not registered' };
  const v = n.view;
  const problems: string[] = [];
  const fixes: string[] = [];
  if (v.verifiedAt === null) {
    problems.push('not verified');
    fixes.push(
      v.simulated
        ? 'keep gridplane-agent run going: it answers the hardware challenge (on the CPU, simulated) within minutes'
        : 'keep gridplane-agent run going: it answers the hardware challenge on the GPU, which needs Docker, the NVIDIA toolkit and the verification image (checks above)',
    );
  }
  if (facts.minStakePerGpu !== null) {
    const { a: stake, b: perGpu, scale } = compareDecimal(v.stake, facts.minStakePerGpu);
    const needed = perGpu * BigInt(v.gpuCount);
    if (stake < needed) {
      problems.push(
        `stake ${v.stake} is below the minimum ${formatScaled(needed, scale)} (${facts.minStakePerGpu} per GPU × ${v.gpuCount})`,
      );
      fixes.push(
        `bond ${formatScaled(needed - stake, scale)} more to this node from the owner's account (POST /v1/staking/stake, or the bots' stake command)`,
      );
    }
  } else if (!v.eligible) {
    problems.push(`stake ${v.stake} (the minimum per GPU could not be read)`);
  }
  if (v.simulated && !v.eligible && problems.length === 0)
    problems.push('simulated nodes are eligible only on a development control plane');
  if (v.suspended) problems.push('suspended');
  if (v.eligible) return { id: 'eligibility', status: 'ok', detail: `eligible for jobs: verified ${v.verifiedAt}, stake ${v.stake}` };
  return {
    id: 'eligibility',
    status: 'fail',
    detail: `not eligible for jobs: ${problems.join('; ') || 'the control plane says so'}`,
    fix: fixes.join('; ') || 'see the details above',
  };
}

export function runChecks(facts: DoctorFacts): CheckResult[] {
  return [
    checkNode(facts.nodeVersion),
    checkConfig(facts),
    checkKey(facts),
    checkGpus(facts),
    checkDocker(facts),
    checkNvidiaToolkit(facts),
    checkVerifyImage(facts),
    checkReach(facts),
    checkClock(facts),
    checkRegistration(facts),
    checkEligibility(facts),
  ];
}
