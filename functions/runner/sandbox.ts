/**
 * The local farm's sandbox for stage commands: the bubblewrap (`bwrap`)
 * command line that runs one command with its own PID, mount, IPC, UTS,
 * cgroup and network namespaces, a fresh /proc that shows only the stage's
 * own processes, no capabilities, and a file system that holds the system
 * read-only and nothing of the farm: the stage's workspace, HOME and tmp are
 * the only writable places, and the farm's data directory (secrets.json, S3
 * objects, other builds), its checkout and the user's home (~/.aws, ~/.ssh)
 * are not there at all.
 *
 * Pure: what the host looks like comes in as a `BubblewrapSandbox` (probed
 * once, functions/runner/sandbox-probe.ts), so the command line is testable.
 *
 * The environment is NOT on this command line: /proc/<pid>/cmdline is
 * readable by every process of the user, so secrets would leak through it.
 * bwrap passes its own environment (the agent's curated one) to the command.
 *
 * Only the local farm uses this (bwrap needs namespaces that Lambda does not
 * grant; a Fargate task is a sandbox of its own). See docs/security.md.
 */

/** A top-level system path as the host has it: bound read-only, or a symlink recreated (`/bin -> usr/bin`). */
export interface SystemPath {
  path: string;
  symlink?: string;
}

export interface BubblewrapSandbox {
  kind: 'bubblewrap';
  /** The bwrap executable. */
  bwrap: string;
  /**
   * `slirp4netns`: outbound network through a user-mode NAT that refuses the
   * host's loopback (`--disable-host-loopback`), so the farm's s3rver and
   * dashboard, and any other service on the host's 127.0.0.1, are out of reach.
   * `none`: the stage has a loopback interface of its own and nothing else.
   */
  network: { kind: 'slirp4netns'; executable: string } | { kind: 'none'; reason: string };
  /** Read-only system paths (/usr, /bin, /lib...), as they exist on this host. */
  system: SystemPath[];
  /** Read-only files and directories of /etc a build needs (users, certificates, the linker cache...). */
  etc: string[];
  /** Read-only directories that hold the toolchain the stage's PATH uses (the farm's own node and its npm). */
  toolchain: string[];
  /** PATH entries of the toolchain, put first on the stage's PATH (the directory of the node binary). */
  toolchainPath: string[];
  /** Paths that must never be visible, even where they sit under a system path (the data directory, the checkout, home). */
  hidden: string[];
}

export interface NoSandbox {
  kind: 'none';
  /** Why: printed in the farm's output and every stage log. */
  reason: string;
}

export type StageSandbox = BubblewrapSandbox | NoSandbox;

/** The stage's own writable directories (host paths; they appear at the same paths inside). */
export interface StageDirectories {
  workspace: string;
  home: string;
  tmp: string;
}

export interface SandboxCommand {
  command: string;
  cwd: string;
  directories: StageDirectories;
  /** A resolv.conf naming slirp4netns's DNS forwarder (with network `slirp4netns`). */
  resolvConf?: string;
  /** Child file descriptors for bwrap's --info-fd (it writes the sandbox's pid) and --block-fd (it waits to start). */
  infoFd?: number;
  blockFd?: number;
  /** Child file descriptor for bwrap's --json-status-fd: the command's own exit, written only once it ran (sandbox-status.ts). */
  statusFd?: number;
}

/** The sandbox's host name: the host's own name says where the farm runs. */
export const SANDBOX_HOSTNAME = 'buildfarm-stage';

/** slirp4netns's built-in DNS forwarder (its default 10.0.2.0/24 network). */
export const SLIRP_DNS = '10.0.2.3';

/** The /etc entries bound read-only when present; never shadow, sudoers, ssh host keys or anything else of the host's. */
export const ETC_ENTRIES = [
  'passwd',
  'group',
  'hosts',
  'host.conf',
  'nsswitch.conf',
  'gai.conf',
  'protocols',
  'services',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'timezone',
  'os-release',
  'debian_version',
  'lsb-release',
  'mime.types',
  'alternatives',
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'pki',
  'crypto-policies',
];

/** Top-level system paths bound read-only when present. */
export const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** bwrap's arguments (without the executable) that run `command` with `sh -c` in the sandbox. */
export function bubblewrapArgs(sandbox: BubblewrapSandbox, run: SandboxCommand): string[] {
  const args = [
    // The sandbox dies with the agent (SIGKILL to its init, which ends the whole PID namespace).
    '--die-with-parent',
    // A session of its own: no TIOCSTI into the farm's terminal.
    '--new-session',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    // Always a network namespace of its own: the host's loopback (s3rver, the dashboard) and its abstract sockets are elsewhere.
    '--unshare-net',
    '--hostname',
    SANDBOX_HOSTNAME,
    // As root, bwrap keeps every capability unless told otherwise.
    '--cap-drop',
    'ALL',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
  ];
  for (const entry of sandbox.system) {
    if (entry.symlink !== undefined) args.push('--symlink', entry.symlink, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  for (const name of sandbox.etc) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  if (run.resolvConf !== undefined) args.push('--ro-bind', run.resolvConf, '/etc/resolv.conf');
  // Later mounts cover earlier ones: a hidden path under a system path (a farm installed under /usr/local) becomes empty.
  const visible = sandbox.system.filter((entry) => entry.symlink === undefined).map((entry) => entry.path);
  for (const path of sandbox.hidden) if (visible.some((root) => isInside(path, root))) args.push('--tmpfs', path);
  for (const directory of sandbox.toolchain) args.push('--ro-bind', directory, directory);
  const { workspace, home, tmp } = run.directories;
  // /tmp first: the stage's directories may lie under the host's /tmp (a data directory there), and must stay on top.
  args.push('--bind', tmp, '/tmp', '--bind', workspace, workspace, '--bind', home, home, '--bind', tmp, tmp);
  args.push('--chdir', run.cwd);
  if (run.infoFd !== undefined) args.push('--info-fd', String(run.infoFd));
  if (run.blockFd !== undefined) args.push('--block-fd', String(run.blockFd));
  if (run.statusFd !== undefined) args.push('--json-status-fd', String(run.statusFd));
  args.push('--', 'sh', '-c', run.command);
  return args;
}

/**
 * The PATH a sandboxed command gets: the toolchain first, then the entries of
 * `hostPath` that the sandbox shows (under a system path or the stage's own
 * directories: `./node_modules/.bin` of the workspace); entries elsewhere
 * (the farm's node_modules/.bin, ~/.cargo/bin) would only name missing
 * directories, and keeping them would say where the farm lives.
 */
export function sandboxPath(sandbox: BubblewrapSandbox, hostPath: string | undefined, stageDirectories: string[] = []): string {
  const roots = [...sandbox.system.map((entry) => entry.path), ...sandbox.toolchain, ...stageDirectories];
  const kept: string[] = [...sandbox.toolchainPath];
  for (const entry of (hostPath ?? '').split(':')) {
    if (entry === '' || kept.includes(entry)) continue;
    const shown = roots.some((root) => isInside(entry, root));
    const covered = sandbox.hidden.some((hidden) => isInside(entry, hidden)) && !stageDirectories.some((root) => isInside(entry, root));
    if (shown && !covered) kept.push(entry);
  }
  for (const fallback of ['/usr/local/bin', '/usr/bin', '/bin']) if (!kept.includes(fallback)) kept.push(fallback);
  return kept.join(':');
}

/** A resolv.conf for a stage on slirp4netns's network. */
export function slirpResolvConf(): string {
  return `# written by buildfarm: slirp4netns forwards DNS to the host's resolver\nnameserver ${SLIRP_DNS}\n`;
}

/**
 * The slirp4netns arguments that give the sandbox whose init is `pid` a tap device, NAT, DNS, and no host loopback.
 * slirp4netns parses the stage's packets on the host, so it confines itself too: its own mount namespace with
 * capabilities dropped (`--enable-sandbox`) and a seccomp filter (`--enable-seccomp`), as rootless Podman runs it.
 */
export function slirpArgs(pid: number, readyFd: number, exitFd: number): string[] {
  return ['--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp', `--ready-fd=${readyFd}`, `--exit-fd=${exitFd}`, String(pid), 'tap0'];
}

function isInside(path: string, root: string): boolean {
  const base = root.endsWith('/') ? root : `${root}/`;
  return path === root || path.startsWith(base);
}
