// The agent's container image (edge-agent/Dockerfile). Statically: what it must hold. Built and
// run only where a Docker daemon answers; elsewhere that test is skipped and says so.
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../edge-agent/src/version.ts';
import { tempDir } from './helpers/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = join(ROOT, 'edge-agent/Dockerfile');

interface Instruction {
  op: string;
  args: string;
}

/** Instructions of the final stage, continuation lines joined, comments dropped. */
function finalStage(text: string): { stages: number; instructions: Instruction[]; args: Record<string, string> } {
  const joined = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const args: Record<string, string> = {};
  let stages = 0;
  let instructions: Instruction[] = [];
  for (const line of joined) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`not an instruction: ${line}`);
    const [, op, rest] = match as unknown as [string, string, string];
    if (op === 'ARG' && stages === 0) {
      const [name, value = ''] = rest.split('=');
      args[name!] = value;
    }
    if (op === 'FROM') {
      stages++;
      instructions = [];
    }
    instructions.push({ op, args: rest.trim() });
  }
  return { stages, instructions, args };
}

/** Whether a Docker daemon answers here, and if not, why not. */
function dockerDaemon(): { ok: true } | { ok: false; why: string } {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 20_000 });
    return { ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    return { ok: false, why: e.code === 'ENOENT' ? 'no docker CLI on PATH' : (e.stderr?.toString().trim().split('\n')[0] ?? e.message) };
  }
}

describe('the agent image', () => {
  it('holds the docker CLI and the bundle, runs it as a non-root user, with a home volume and GPU utilities', async () => {
    const text = await readFile(DOCKERFILE, 'utf8');
    const { instructions, args } = finalStage(text);
    const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);
    // The docker CLI comes from the official CLI image, pinned to a version.
    expect(args.DOCKER_CLI_IMAGE).toMatch(/^docker:\d+\.\d+\.\d+-cli$/);
    expect(all('COPY')).toContain('--from=docker-cli /usr/local/bin/docker /usr/local/bin/docker');
    // The bundle, at the path the entrypoint runs.
    const copy = all('COPY').find((c) => c.startsWith('dist/gridplane-agent.mjs'));
    expect(copy).toBe('dist/gridplane-agent.mjs dist/THIRD-PARTY-LICENSES.txt /opt/gridplane-agent/');
    expect(JSON.parse(all('ENTRYPOINT')[0]!)).toEqual(['node', '/opt/gridplane-agent/gridplane-agent.mjs']);
    expect(JSON.parse(all('CMD')[0]!)).toEqual(['run']);
    // Not root, and the last USER is the one that runs.
    const users = all('USER');
    expect(users.at(-1)).toBe('node');
    expect(instructions.findIndex((i) => i.op === 'USER')).toBeGreaterThan(instructions.findIndex((i) => i.op === 'RUN'));
    // The home is a volume the agent's user owns, and the agent is told where it is.
    const env = all('ENV').join(' ');
    expect(env).toMatch(/GRIDPLANE_AGENT_HOME=\/var\/lib\/gridplane-agent/);
    expect(all('VOLUME')).toEqual(['/var/lib/gridplane-agent']);
    expect(all('RUN').join(' ')).toMatch(/install -d -o node -g node -m 0700 \/var\/lib\/gridplane-agent/);
    // The NVIDIA runtime mounts nvidia-smi (the utility capability) into the container.
    expect(env).toMatch(/NVIDIA_DRIVER_CAPABILITIES=\S*utility/);
    expect(env).toMatch(/NVIDIA_VISIBLE_DEVICES=all/);
    // Nothing but the bundle goes into the build context.
    const ignore = (await readFile(join(ROOT, 'edge-agent/.dockerignore'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore).toEqual(['*', '!dist/gridplane-agent.mjs', '!dist/THIRD-PARTY-LICENSES.txt']);
  });

  const docker = dockerDaemon();
  if (!docker.ok) console.log(`SKIPPED: building edge-agent/Dockerfile needs a Docker daemon, and here: ${docker.why}`);
  it.skipIf(!docker.ok)(
    'builds, and the image runs the agent and the docker CLI',
    async () => {
      const context = await tempDir('gridplane-agent-image-');
      await copyFile(DOCKERFILE, join(context, 'Dockerfile'));
      await copyFile(join(ROOT, 'edge-agent/.dockerignore'), join(context, '.dockerignore'));
      await mkdir(join(context, 'dist'));
      execFileSync(process.execPath, ['edge-agent/scripts/build.ts', '--outdir', join(context, 'dist')], { cwd: ROOT });
      const tag = `gridplane-agent-test:${process.pid}`;
      const run = (args: string[]) =>
        new Promise<{ code: number; out: string }>((resolve) =>
          execFile('docker', args, { timeout: 600_000, maxBuffer: 16 << 20 }, (e, stdout, stderr) =>
            resolve({ code: e ? 1 : 0, out: `${stdout}${stderr}` }),
          ),
        );
      const build = await run(['build', '-t', tag, context]);
      expect(build.code, build.out).toBe(0);
      try {
        expect((await run(['run', '--rm', tag, '--version'])).out.trim()).toBe(AGENT_VERSION);
        const help = await run(['run', '--rm', tag, 'doctor', '--help']);
        expect(help.out).toContain('usage: gridplane-agent doctor');
        expect((await run(['run', '--rm', '--entrypoint', 'docker', tag, '--version'])).out).toMatch(/^Docker version \d+/);
        expect((await run(['run', '--rm', '--entrypoint', 'id', tag, '-u'])).out.trim()).not.toBe('0');
      } finally {
        await run(['image', 'rm', '-f', tag]);
      }
    },
    900_000,
  );
});
