/**
 * The bubblewrap command line (functions/runner/sandbox.ts), pure: what is
 * mounted, in which order, and what never appears on it. The sandbox's
 * behaviour is tried for real in test/hostile/sandbox-escape.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { bubblewrapArgs, sandboxPath, slirpArgs, type BubblewrapSandbox } from '../../functions/runner/sandbox.js';

function sandbox(overrides: Partial<BubblewrapSandbox> = {}): BubblewrapSandbox {
  return {
    kind: 'bubblewrap',
    bwrap: '/usr/bin/bwrap',
    network: { kind: 'slirp4netns', executable: '/usr/bin/slirp4netns' },
    system: [{ path: '/usr' }, { path: '/bin', symlink: 'usr/bin' }, { path: '/lib64' }],
    etc: ['passwd', 'ssl'],
    toolchain: ['/opt/node'],
    toolchainPath: ['/opt/node/bin'],
    hidden: ['/srv/farm/.buildfarm', '/srv/farm', '/home/alice'],
    ...overrides,
  };
}

const directories = { workspace: '/srv/farm/.buildfarm/work/s1/workspace', home: '/srv/farm/.buildfarm/work/s1/home', tmp: '/srv/farm/.buildfarm/work/s1/tmp' };
const run = { command: 'npm test', cwd: directories.workspace, directories };

/** The values that follow each occurrence of `flag`. */
function after(args: string[], flag: string, count = 1): string[][] {
  const found: string[][] = [];
  args.forEach((arg, index) => {
    if (arg === flag) found.push(args.slice(index + 1, index + 1 + count));
  });
  return found;
}

describe('Function: bubblewrapArgs', () => {
  it('unshares every namespace but the user one, dies with the agent, drops capabilities and mounts a fresh /proc', () => {
    // Act
    const args = bubblewrapArgs(sandbox(), run);
    // Assess
    for (const flag of ['--die-with-parent', '--new-session', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try']) {
      expect(args).toContain(flag);
    }
    expect(after(args, '--cap-drop')).toEqual([['ALL']]);
    expect(after(args, '--proc')).toEqual([['/proc']]);
    expect(args.slice(-4)).toEqual(['--', 'sh', '-c', 'npm test']);
  });

  it('binds the system read-only, recreates its symlinks, and binds only the named /etc entries', () => {
    // Act
    const args = bubblewrapArgs(sandbox(), run);
    // Assess
    expect(after(args, '--ro-bind', 2)).toEqual(expect.arrayContaining([['/usr', '/usr'], ['/lib64', '/lib64'], ['/opt/node', '/opt/node']]));
    expect(after(args, '--symlink', 2)).toEqual([['usr/bin', '/bin']]);
    expect(after(args, '--ro-bind-try', 2)).toEqual([['/etc/passwd', '/etc/passwd'], ['/etc/ssl', '/etc/ssl']]);
    expect(args).not.toContain('/etc');
  });

  it('makes only the workspace, HOME and tmp writable, with /tmp mounted before them so they stay on top', () => {
    // Act
    const args = bubblewrapArgs(sandbox(), run);
    // Assess
    expect(after(args, '--bind', 2)).toEqual([
      [directories.tmp, '/tmp'],
      [directories.workspace, directories.workspace],
      [directories.home, directories.home],
      [directories.tmp, directories.tmp],
    ]);
    expect(after(args, '--chdir')).toEqual([[directories.workspace]]);
  });

  it('never mounts the data directory, the checkout or the home directory, and never puts the environment on the command line', () => {
    // Act
    const args = bubblewrapArgs(sandbox(), run);
    // Assess: the hidden paths only appear as parents of the stage's own directories.
    const sources = [...after(args, '--bind', 2), ...after(args, '--ro-bind', 2)].map(([source]) => source);
    for (const hidden of sandbox().hidden) expect(sources).not.toContain(hidden);
    expect(args).not.toContain('--setenv');
    expect(args).not.toContain('--clearenv');
  });

  it('covers a hidden path that lies under a system path (a farm installed under /usr/local) with an empty tmpfs, before the toolchain', () => {
    // Prepare
    const installed = sandbox({ hidden: ['/usr/local/lib/node_modules/buildfarm'], toolchain: ['/usr/local/lib/node_modules/buildfarm/node_modules/node'] });
    // Act
    const args = bubblewrapArgs(installed, run);
    // Assess
    expect(after(args, '--tmpfs')).toEqual([['/usr/local/lib/node_modules/buildfarm']]);
    expect(args.indexOf('--tmpfs')).toBeLessThan(args.lastIndexOf('--ro-bind'));
    expect(args.indexOf('--tmpfs')).toBeGreaterThan(args.indexOf('/usr'));
  });

  it('waits on --block-fd and reports its pid on --info-fd when the network must be attached', () => {
    // Act
    const args = bubblewrapArgs(sandbox(), { ...run, infoFd: 3, blockFd: 4, resolvConf: '/srv/farm/.buildfarm/work/s1/sandbox-resolv.conf' });
    // Assess
    expect(after(args, '--info-fd')).toEqual([['3']]);
    expect(after(args, '--block-fd')).toEqual([['4']]);
    expect(after(args, '--ro-bind', 2)).toContainEqual(['/srv/farm/.buildfarm/work/s1/sandbox-resolv.conf', '/etc/resolv.conf']);
  });
});

describe('Function: sandboxPath', () => {
  it('keeps the toolchain first, system entries and the workspace\'s own bins, and drops the farm\'s and the home directory\'s', () => {
    // Prepare
    const host = '/srv/farm/node_modules/.bin:/home/alice/.cargo/bin:/usr/local/bin:/usr/bin:/srv/farm/.buildfarm/work/s1/workspace/node_modules/.bin';
    // Act
    const path = sandboxPath(sandbox(), host, [directories.workspace]);
    // Assess
    expect(path.split(':')).toEqual(['/opt/node/bin', '/usr/local/bin', '/usr/bin', `${directories.workspace}/node_modules/.bin`, '/bin']);
  });
});

describe('Function: slirpArgs', () => {
  it('refuses the host loopback and attaches to the sandbox pid', () => {
    expect(slirpArgs(4242, 3, 4)).toEqual(['--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp', '--ready-fd=3', '--exit-fd=4', '4242', 'tap0']);
  });
});
