// The verification image is a few GB. Pulled inside the first `docker run`, the download would
// count against the challenge's deadline and lose it; so the daemon pulls it at start, logs the
// progress, and answers challenges only once it is there.
import { execFile, spawn } from 'node:child_process';
import type { Logger } from '../log.ts';

export interface ImagePullOptions {
  image: string;
  log: Logger;
  signal: AbortSignal;
  /** The docker CLI; `docker` on PATH by default. */
  dockerPath?: string;
  now?: () => number;
}

/**
 * Progress of a `docker pull` from its plain (non-terminal) output, where each line is
 * `<layer>: <status>` and byte counts are left out. A layer counts as downloaded once it says
 * "Download complete" (or is already there) and as done at "Pull complete" / "Already exists".
 */
export class PullProgress {
  readonly #layers = new Map<string, { downloaded: boolean; done: boolean }>();

  /** Reads one output line; true when it moved a layer forward. */
  line(text: string): boolean {
    const match = /^([0-9a-f]{12,64}): (.+)$/.exec(text.trim());
    if (!match) return false;
    const [, id, status] = match as unknown as [string, string, string];
    const layer = this.#layers.get(id) ?? { downloaded: false, done: false };
    this.#layers.set(id, layer);
    const before = `${layer.downloaded}${layer.done}`;
    if (/^(Download complete|Already exists|Pull complete|Extracting|Verifying Checksum)/.test(status)) layer.downloaded = true;
    if (/^(Pull complete|Already exists)/.test(status)) layer.done = true;
    return `${layer.downloaded}${layer.done}` !== before;
  }

  get total(): number {
    return this.#layers.size;
  }

  get downloaded(): number {
    return [...this.#layers.values()].filter((l) => l.downloaded).length;
  }

  get done(): number {
    return [...this.#layers.values()].filter((l) => l.done).length;
  }
}

/** Resolves once the image is on the host (pulled now or before); rejects if the pull fails. */
export async function ensureImage(options: ImagePullOptions): Promise<'present' | 'pulled'> {
  const docker = options.dockerPath ?? 'docker';
  const now = options.now ?? Date.now;
  if (await imagePresent(docker, options.image, options.signal)) return 'present';
  const started = now();
  options.log.info('verify_image_pull', `pulling the verification image ${options.image}; hardware challenges wait for it`, {
    image: options.image,
  });
  const progress = new PullProgress();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(docker, ['pull', options.image], { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (progress.line(line)) {
          options.log.info(
            'verify_image_progress',
            `verification image: ${progress.downloaded}/${progress.total} layers downloaded, ${progress.done}/${progress.total} extracted`,
            {
              image: options.image,
              downloaded: progress.downloaded,
              done: progress.done,
              layers: progress.total,
            },
          );
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`docker pull ${options.image} exited with code ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
  options.log.info('verify_image_pulled', `verification image pulled in ${((now() - started) / 1000).toFixed(1)} s`, {
    image: options.image,
    layers: progress.total,
  });
  return 'pulled';
}

function imagePresent(docker: string, image: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(docker, ['image', 'inspect', '--format', '{{.Id}}', image], { timeout: 30_000, signal }, (error) => resolve(!error));
  });
}

/**
 * The daemon's handle: `ensure()` starts the pull once and shares it; after a failure (logged)
 * the next call tries again, so a challenge poll retries a pull that a network blip broke.
 */
export function createImagePuller(options: ImagePullOptions): { ensure(): Promise<void> } {
  let pending: Promise<void> | null = null;
  return {
    ensure() {
      pending ??= ensureImage(options).then(
        () => undefined,
        (err: unknown) => {
          pending = null;
          if (!options.signal.aborted)
            options.log.warn(
              'verify_image_failed',
              `could not pull the verification image: ${err instanceof Error ? err.message : String(err)}; retrying before the next challenge`,
            );
          throw err;
        },
      );
      return pending;
    },
  };
}
