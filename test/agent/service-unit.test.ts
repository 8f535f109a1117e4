// `gridplane-agent service install`: the unit's text line by line, its quoting, who it runs as,
// the dry run, the written file (checked by systemd-analyze where the machine has it) and --enable
// with a stand-in systemctl.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../edge-agent/src/cli.ts';
import { quoteExecArg, serviceUser, unitText } from '../../edge-agent/src/service/systemd-unit.ts';
import { OWNER, initHome, tempDir } from './helpers/index.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const base = {
  scope: 'system' as const,
  nodePath: '/usr/bin/node',
  entryPath: '/usr/lib/node_modules/gridplane-agent/dist/gridplane-agent.mjs',
  home: '/var/lib/gridplane-agent',
  user: 'gridplane',
  version: '0.1.0',
};

/** The unit's `Key=Value` lines by section, comments left out. */
function sections(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let current = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) out[(current = header[1]!)] = [];
    else out[current]!.push(line);
  }
  return out;
}

describe('the systemd unit', () => {
  it('orders after the network and Docker, restarts on failure and is wanted by multi-user.target', () => {
    expect(sections(unitText(base))).toEqual({
      Unit: ['Description=gridplane edge agent (GPU node)', 'After=network-online.target docker.service', 'Wants=network-online.target'],
      Service: [
        'Type=simple',
        'User=gridplane',
        'ExecStart=/usr/bin/node /usr/lib/node_modules/gridplane-agent/dist/gridplane-agent.mjs run --home /var/lib/gridplane-agent',
        'Restart=on-failure',
        'RestartSec=10s',
        'RestartPreventExitStatus=2',
        'KillSignal=SIGTERM',
        'TimeoutStopSec=60s',
        'SyslogIdentifier=gridplane-agent',
        'NoNewPrivileges=yes',
      ],
      Install: ['WantedBy=multi-user.target'],
    });
    expect(unitText(base)).toContain('# Logs: journalctl -u gridplane-agent -f');
  });

  it('a user unit has no User= and no ordering on a system unit, and starts with the user session', () => {
    const unit = sections(unitText({ ...base, scope: 'user', user: null }));
    expect(unit.Unit).toContain('After=network-online.target');
    expect(unit.Service!.some((l) => l.startsWith('User='))).toBe(false);
    expect(unit.Install).toEqual(['WantedBy=default.target']);
  });

  it('quotes paths the way systemd reads them and refuses relative paths', () => {
    expect(quoteExecArg('/opt/gridplane/agent.mjs')).toBe('/opt/gridplane/agent.mjs');
    expect(quoteExecArg('/home/a b/agent.mjs')).toBe('"/home/a b/agent.mjs"');
    expect(quoteExecArg('/srv/100%/x')).toBe('"/srv/100%%/x"');
    expect(quoteExecArg('/srv/$HOME/x')).toBe('"/srv/$$HOME/x"');
    expect(quoteExecArg('/srv/say "hi"\\')).toBe('"/srv/say \\"hi\\"\\\\"');
    expect(() => quoteExecArg('/srv/a\nExecStartPre=/bin/rm')).toThrow(/line break/);
    expect(() => unitText({ ...base, home: 'relative/home' })).toThrow(/absolute home path/);
  });

  it('never runs as root; under sudo it runs as the user who ran sudo', () => {
    expect(serviceUser({ runAs: undefined, uid: 1000, username: 'alice', sudoUser: undefined })).toBe('alice');
    expect(serviceUser({ runAs: undefined, uid: 0, username: 'root', sudoUser: 'alice' })).toBe('alice');
    expect(serviceUser({ runAs: 'gpu-agent', uid: 0, username: 'root', sudoUser: 'alice' })).toBe('gpu-agent');
    expect(() => serviceUser({ runAs: undefined, uid: 0, username: 'root', sudoUser: undefined })).toThrow(/should not run as root/);
    expect(() => serviceUser({ runAs: 'root', uid: 1000, username: 'alice', sudoUser: undefined })).toThrow(/should not run as root/);
    expect(() => serviceUser({ runAs: 'a b', uid: 1000, username: 'alice', sudoUser: undefined })).toThrow(/not a user name/);
  });
});

describe('gridplane-agent service install', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  async function home() {
    return (await initHome({ controlPlaneUrl: 'http://127.0.0.1:9', simulateGpus: 'RTX 4090x1', owner: OWNER })).home;
  }

  it('--dry-run prints the unit with this node and agent, and writes nothing', async () => {
    const h = await home();
    const dir = join(await tempDir(), 'units');
    const { io, out, err } = capture();
    expect(await main(['service', 'install', '--dry-run', '--home', h, '--run-as', 'gridplane', '--unit-dir', dir], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toBe(`# ${join(dir, 'gridplane-agent.service')} (dry run: nothing written)`);
    const unit = out.slice(1).join('\n');
    expect(sections(unit).Service).toContain('User=gridplane');
    expect(unit).toMatch(new RegExp(`^ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\S+ run --home ${h}$`, 'm'));
    expect(existsSync(dir)).toBe(false);
  });

  it('writes the unit (systemd-analyze verify finds nothing wrong) and --enable runs systemctl', async () => {
    const h = await home();
    const dir = join(await tempDir(), 'units');
    const bin = await tempDir();
    const calls = join(bin, 'calls');
    await writeFile(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
    await chmod(join(bin, 'systemctl'), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
    const { io, out, err } = capture();
    expect(await main(['service', 'install', '--home', h, '--run-as', 'gridplane', '--unit-dir', dir, '--enable'], io)).toBe(0);
    expect(err).toEqual([]);
    const path = join(dir, 'gridplane-agent.service');
    expect(out[0]).toBe(`wrote ${path}`);
    expect(out).toContain('  journalctl -u gridplane-agent -f');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['daemon-reload', 'enable --now gridplane-agent']);

    const unit = await readFile(path, 'utf8');
    expect(sections(unit).Install).toEqual(['WantedBy=multi-user.target']);
    if (existsSync('/usr/bin/systemd-analyze') || existsSync('/bin/systemd-analyze')) {
      const verify = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile('systemd-analyze', ['verify', path], { env: { ...process.env, PATH: savedPath } }, (e, _o, stderr) =>
          resolve({ code: e ? 1 : 0, stderr }),
        ),
      );
      // verify exits 0 on warnings too; it prints them, so nothing on stderr is the pass.
      expect(verify.stderr.split('\n').filter((l) => l.includes(path) || l.includes('gridplane-agent.service'))).toEqual([]);
      expect(verify.code).toBe(0);
    } else {
      console.log('systemd-analyze is not on this machine: the written unit was checked line by line only');
    }
  });

  it('a --user unit goes under the user config, and bad requests say what to do', async () => {
    const h = await home();
    const dir = join(await tempDir(), 'user-units');
    const { io, out } = capture();
    expect(await main(['service', 'install', '--user', '--home', h, '--unit-dir', dir], io)).toBe(0);
    expect(sections(await readFile(join(dir, 'gridplane-agent.service'), 'utf8')).Install).toEqual(['WantedBy=default.target']);
    expect(out).toContain('  systemctl --user enable --now gridplane-agent');

    const bad = capture();
    expect(await main(['service', 'install', '--user', '--run-as', 'bob', '--home', h, '--unit-dir', dir], bad.io)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--run-as is for system units/);
    const noVerb = capture();
    expect(await main(['service', '--home', h], noVerb.io)).toBe(2);
    expect(noVerb.err.join('\n')).toMatch(/expected install/);
  });
});
