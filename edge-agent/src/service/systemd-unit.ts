// The systemd unit `gridplane-agent service install` writes. Pure: the text from its inputs, so a
// test can read every line; commands/service.ts decides the inputs and writes the file.
import { AgentError } from '../errors.ts';

export const UNIT_NAME = 'gridplane-agent.service';

export type ServiceScope = 'system' | 'user';

export interface UnitInput {
  scope: ServiceScope;
  /** Absolute path of the node executable that runs the agent. */
  nodePath: string;
  /** Absolute path of the agent's entry file (the bundle, or the checkout's bin). */
  entryPath: string;
  /** The agent's home (key and config), passed as --home. */
  home: string;
  /** The account a system unit runs as; user units run as their user. */
  user: string | null;
  version: string;
}

/**
 * One ExecStart argument. systemd splits on spaces, reads `\` and quotes, expands `$VAR` and `%x`
 * specifiers: a plain word stays as it is, anything else is double-quoted with those escaped.
 */
export function quoteExecArg(arg: string): string {
  if (/[\n\r\0]/.test(arg)) throw new AgentError('bad_path', `cannot put a line break or NUL into a unit file: ${JSON.stringify(arg)}`);
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function unitText(input: UnitInput): string {
  for (const [what, path] of [
    ['node', input.nodePath],
    ['entry', input.entryPath],
    ['home', input.home],
  ] as const) {
    if (!path.startsWith('/')) throw new AgentError('bad_path', `the unit needs an absolute ${what} path, got "${path}"`);
  }
  if (input.scope === 'system' && !input.user) throw new AgentError('bad_service_user', 'a system unit needs the account it runs as');
  const exec = [input.nodePath, input.entryPath, 'run', '--home', input.home].map(quoteExecArg).join(' ');
  const system = input.scope === 'system';
  return [
    `# gridplane-agent ${input.version}: written by \`gridplane-agent service install${system ? '' : ' --user'}\`.`,
    `# Logs: journalctl ${system ? '' : '--user '}-u gridplane-agent -f`,
    '[Unit]',
    'Description=gridplane edge agent (GPU node)',
    // Registration and heartbeats need the network up, and jobs and challenges need the docker
    // daemon; a user manager cannot order itself after system units, so docker is named only here.
    `After=network-online.target${system ? ' docker.service' : ''}`,
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(system ? [`User=${input.user}`] : []),
    `ExecStart=${exec}`,
    // Exit 1 (an error) restarts after a pause; exit 2 is a usage mistake a restart cannot fix.
    'Restart=on-failure',
    'RestartSec=10s',
    'RestartPreventExitStatus=2',
    // SIGTERM aborts requests in flight and stops running jobs, reporting them, then exits 0.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=60s',
    'SyslogIdentifier=gridplane-agent',
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

export interface ServiceUserFacts {
  /** `--run-as USER`, if given. */
  runAs: string | undefined;
  /** The invoking account and, under sudo, the account that ran sudo. */
  uid: number;
  username: string;
  sudoUser: string | undefined;
}

/**
 * Who a system unit runs as: `--run-as`, else the user who ran sudo, else the current user. Never
 * root: the agent needs only the docker group, and a job runner should not hold the whole host.
 */
export function serviceUser(facts: ServiceUserFacts): string {
  const chosen = facts.runAs ?? (facts.uid === 0 && facts.sudoUser && facts.sudoUser !== 'root' ? facts.sudoUser : facts.username);
  if (!/^[a-z_][a-z0-9_-]*[$]?$/i.test(chosen) || chosen.length > 32)
    throw new AgentError('bad_service_user', `"${chosen}" is not a user name`);
  if (chosen === 'root') {
    throw new AgentError(
      'bad_service_user',
      'the agent should not run as root: pass --run-as USER (an account in the docker group, owning the agent home)',
    );
  }
  return chosen;
}

/** Where the unit goes: the system's unit directory, or the user's. */
export function unitDir(scope: ServiceScope, env: { HOME?: string; XDG_CONFIG_HOME?: string }): string {
  if (scope === 'system') return '/etc/systemd/system';
  const config = env.XDG_CONFIG_HOME || (env.HOME ? `${env.HOME}/.config` : null);
  if (!config) throw new AgentError('bad_path', 'no $HOME to put a user unit under; pass --unit-dir DIR');
  return `${config}/systemd/user`;
}

/** The commands that follow writing the unit, as the operator would type them. */
export function nextSteps(scope: ServiceScope, user: string | null): string[] {
  const ctl = scope === 'system' ? 'sudo systemctl' : 'systemctl --user';
  return [
    `${ctl} daemon-reload`,
    `${ctl} enable --now gridplane-agent`,
    `journalctl ${scope === 'system' ? '' : '--user '}-u gridplane-agent -f`,
    ...(scope === 'user' ? [`loginctl enable-linger ${user ?? '$USER'}   # keep it running after you log out`] : []),
  ];
}
