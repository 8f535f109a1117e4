// `gridplane-agent service install`: writes the systemd unit for this agent (this node, this
// agent copy, this home) and, with --enable, reloads systemd and starts it.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { configPath } from '../config.ts';
import { AgentError } from '../errors.ts';
import { keyPath } from '../identity.ts';
import { UNIT_NAME, nextSteps, serviceUser, unitDir, unitText, type ServiceScope } from '../service/systemd-unit.ts';
import { AGENT_VERSION } from '../version.ts';
import type { CommandIo } from './io.ts';

export interface ServiceInstallInput {
  home: string;
  /** True when the home came from --home or $GRIDPLANE_AGENT_HOME, not from this user's ~. */
  homeChosen: boolean;
  scope: ServiceScope;
  dryRun: boolean;
  enable: boolean;
  runAs?: string;
  unitDir?: string;
  json: boolean;
  /** Injected by tests; default: this process's node and entry file. */
  nodePath?: string;
  entryPath?: string;
  systemctlPath?: string;
}

export async function serviceInstallCommand(input: ServiceInstallInput, io: CommandIo): Promise<number> {
  const nodePath = input.nodePath ?? process.execPath;
  const entryPath = input.entryPath ?? realpathSync(process.argv[1] ?? '');
  let user: string | null = null;
  if (input.scope === 'system') {
    const me = userInfo();
    user = serviceUser({ runAs: input.runAs, uid: me.uid, username: me.username, sudoUser: process.env.SUDO_USER });
    // This process's ~ is not the service user's when they differ (sudo, --run-as).
    if (user !== me.username && !input.homeChosen) {
      throw new AgentError('missing_flag', `the unit runs as ${user}, not ${me.username}: pass --home DIR, the agent home ${user} owns`);
    }
  } else if (input.runAs !== undefined) {
    throw new AgentError('bad_flag', '--run-as is for system units; a --user unit runs as you');
  }
  const text = unitText({ scope: input.scope, nodePath, entryPath, home: input.home, user, version: AGENT_VERSION });
  const dir = input.unitDir ?? unitDir(input.scope, process.env);
  const path = join(dir, UNIT_NAME);
  const warnings: string[] = [];
  if (!existsSync(configPath(input.home)) || !existsSync(keyPath(input.home))) {
    warnings.push(
      `no agent set up in ${input.home} yet: run "gridplane-agent init --home ${input.home} …" as ${user ?? 'yourself'} before starting the service`,
    );
  }
  // npx runs packages from its cache, which npm may clear: the unit would point at nothing.
  if (/[/\\]_npx[/\\]/.test(entryPath)) {
    warnings.push(
      `${entryPath} is in npx's cache, which npm may clear; install the agent (npm install -g gridplane-agent) and run "gridplane-agent service install" from that copy`,
    );
  }
  if (input.dryRun) {
    if (input.json) io.out(JSON.stringify({ path, unit: text, warnings, dryRun: true }));
    else {
      io.out(`# ${path} (dry run: nothing written)`);
      io.out(text);
      for (const w of warnings) io.err(`warning: ${w}`);
    }
    return 0;
  }
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(path, text, { mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new AgentError('permission_denied', `cannot write ${path}: run it with sudo, or install a user unit with --user`, {
        cause: err,
      });
    }
    throw err;
  }
  const steps = nextSteps(input.scope, user);
  if (input.enable) {
    const ctl = input.systemctlPath ?? 'systemctl';
    const scopeArgs = input.scope === 'user' ? ['--user'] : [];
    await systemctl(ctl, [...scopeArgs, 'daemon-reload']);
    await systemctl(ctl, [...scopeArgs, 'enable', '--now', 'gridplane-agent']);
  }
  if (input.json) {
    io.out(JSON.stringify({ path, written: true, enabled: input.enable, warnings, next: input.enable ? steps.slice(2) : steps }));
    return 0;
  }
  io.out(`wrote ${path}`);
  for (const w of warnings) io.err(`warning: ${w}`);
  io.out(input.enable ? 'enabled and started; follow its log with:' : 'next:');
  for (const step of input.enable ? steps.slice(2) : steps) io.out(`  ${step}`);
  return 0;
}

function systemctl(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (error) {
        reject(
          new AgentError('systemctl_failed', `${file} ${args.join(' ')} failed: ${(stderr || error.message).trim().slice(0, 300)}`, {
            cause: error,
          }),
        );
      } else resolve();
    });
  });
}
