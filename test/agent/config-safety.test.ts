import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../edge-agent/src/cli.ts';
import { initCommand } from '../../edge-agent/src/commands/init.ts';
import { parseConfig, type AgentConfigInput } from '../../edge-agent/src/config.ts';
import { startDaemon } from '../../edge-agent/src/daemon.ts';
import { createMemoryLogger } from '../../edge-agent/src/log.ts';
import { initHome, OWNER, silentIo, tempDir } from './helpers/index.ts';

// The control plane hands this host jobs to run, so the agent talks to it only over TLS; plain
// http is left for a control plane on this machine (tests, e2e, `wrangler dev`).

const base: AgentConfigInput = {
  nodeName: 'rig-1',
  owner: OWNER,
  location: { lat: 35.68, lon: 139.69, country: 'JP' },
  pricePerGpuHour: '1.250000',
  simulateGpus: 'RTX 4090x2',
};

const problem = (input: Partial<AgentConfigInput>) => {
  try {
    parseConfig({ ...base, ...input }, 'test');
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('control-plane URL', () => {
  it('allows https anywhere and plain http only to a loopback address', () => {
    for (const url of [
      'https://api.gridplane.example',
      'https://203.0.113.9:8443/base',
      'http://127.0.0.1:8787',
      'http://127.3.2.1',
      'http://localhost:8787',
      'http://[::1]:8787',
    ]) {
      expect(problem({ controlPlaneUrl: url }), url).toBe('ok');
    }
    for (const url of [
      'http://api.gridplane.example',
      'http://10.0.0.1:8787',
      'http://0.0.0.0:8787',
      'http://127.0.0.1.nip.io',
      'http://localhost.evil.example',
      'http://[::ffff:127.0.0.1]',
      'ws://127.0.0.1:8787',
      'ftp://127.0.0.1',
    ]) {
      expect(problem({ controlPlaneUrl: url }), url).toMatch(/controlPlaneUrl/);
    }
    expect(problem({ controlPlaneUrl: 'http://api.gridplane.example' })).toContain(
      'must be https:// (plain http:// only to this machine: 127.0.0.1, localhost or [::1])',
    );
  });

  it('init refuses a plain-http control plane elsewhere and writes nothing', async () => {
    const home = join(await tempDir(), 'home');
    await expect(
      initCommand({ home, force: false, json: false, config: { ...base, controlPlaneUrl: 'http://api.gridplane.example' } }, silentIo),
    ).rejects.toMatchObject({
      code: 'bad_config',
    });
    expect(existsSync(home)).toBe(false);

    const err: string[] = [];
    const code = await main(
      [
        'init',
        '--home',
        home,
        '--url',
        'http://api.gridplane.example',
        '--owner',
        OWNER,
        '--lat',
        '1',
        '--lon',
        '2',
        '--country',
        'JP',
        '--price-per-gpu-hour',
        '1',
        '--simulate-gpus',
        'T4',
      ],
      { out: () => {}, err: (line) => err.push(line) },
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/must be https:\/\/.*\[bad_config\]$/s);
    expect(existsSync(home)).toBe(false);
  });

  it('run refuses a config file or a --url override that points elsewhere over http, before any request', async () => {
    const { home } = await initHome({ controlPlaneUrl: 'http://127.0.0.1:9' });
    const requests: string[] = [];
    const fetch = (async (input: RequestInfo | URL) => {
      requests.push(String(input));
      throw new Error('no network in this test');
    }) as typeof globalThis.fetch;
    const signal = new AbortController().signal;
    await expect(
      startDaemon({ home, signal, logger: createMemoryLogger(), fetch, overrides: { controlPlaneUrl: 'http://api.gridplane.example' } }),
    ).rejects.toMatchObject({
      code: 'bad_config',
    });
    const path = join(home, 'config.json');
    const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...config, controlPlaneUrl: 'http://api.gridplane.example' }));
    await expect(startDaemon({ home, signal, logger: createMemoryLogger(), fetch })).rejects.toThrow(/must be https:\/\//);
    expect(requests).toEqual([]);
  });
});

describe('job network setting', () => {
  it('defaults to the agent’s own network, takes an operator’s, and refuses the host’s', () => {
    expect(parseConfig({ ...base }, 'test').jobNetwork).toBe('gridplane-jobs');
    expect(parseConfig({ ...base, jobNetwork: 'none' }, 'test').jobNetwork).toBe('none');
    expect(parseConfig({ ...base, jobNetwork: 'gpu-jobs_2' }, 'test').jobNetwork).toBe('gpu-jobs_2');
    expect(problem({ jobNetwork: 'host' })).toMatch(/jobNetwork/);
    expect(problem({ jobNetwork: 'container:abc' })).toMatch(/jobNetwork/);
    expect(problem({ jobNetwork: '--privileged' })).toMatch(/jobNetwork/);
  });
});
