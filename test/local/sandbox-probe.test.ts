/**
 * What the farm finds out about its sandbox at start (functions/local/sandbox-probe.ts),
 * and the line it prints: loud whenever stages are not sandboxed or have no network.
 */
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSandbox, probeStageSandbox, probeStageSandboxAsync, toolchainFor } from '../../functions/local/sandbox-probe.js';

const bwrapHere = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].some((path) => existsSync(path));

describe('Function: probeStageSandbox', () => {
  it.each(['off', 'OFF', 'none', '0', 'false'])('turns the sandbox off for BUILDFARM_SANDBOX=%s, naming the setting', (setting) => {
    const sandbox = probeStageSandbox({ dataDirectory: '/srv/farm/.buildfarm', setting });
    expect(sandbox).toEqual({ kind: 'none', reason: `BUILDFARM_SANDBOX=${setting} turned the sandbox off` });
  });

  it('says bubblewrap is not installed when no bwrap is on the PATH', () => {
    const sandbox = probeStageSandbox({ dataDirectory: '/srv/farm/.buildfarm', searchPath: '/nonexistent' });
    expect(sandbox.kind).toBe('none');
    expect(sandbox.kind === 'none' && sandbox.reason).toContain('bubblewrap (bwrap) is not installed');
  });

  it.runIf(bwrapHere)('finds bwrap here, and hides the data directory, the checkout and the home directory', () => {
    const sandbox = probeStageSandbox({ dataDirectory: '/srv/farm/.buildfarm' });
    expect(sandbox.kind).toBe('bubblewrap');
    if (sandbox.kind !== 'bubblewrap') return;
    expect(sandbox.hidden).toEqual(expect.arrayContaining(['/srv/farm/.buildfarm', homedir(), process.cwd()]));
    expect(sandbox.system.map((entry) => entry.path)).toContain('/usr');
  });
});

describe('Function: probeStageSandbox, a data directory reached through a link', () => {
  it.runIf(bwrapHere)('hides the folder the link leads to as well as the link (review: a link into /usr/local left secrets.json readable)', async () => {
    // Prepare: the real data directory, and a link to it under another name
    const root = await mkdtemp(join(tmpdir(), 'probe-link-'));
    try {
      const real = join(root, 'real-data');
      await mkdir(real);
      await symlink(real, join(root, 'data'));
      // Act
      const sandbox = probeStageSandbox({ dataDirectory: join(root, 'data') });
      // Assess
      expect(sandbox.kind).toBe('bubblewrap');
      if (sandbox.kind !== 'bubblewrap') return;
      expect(sandbox.hidden).toEqual(expect.arrayContaining([join(root, 'data'), realpathSync.native(real)]));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('Function: probeStageSandboxAsync (run starts it beside its other start-up work)', () => {
  it.runIf(bwrapHere)('finds the same sandbox as the blocking probe', async () => {
    const options = { dataDirectory: '/srv/farm/.buildfarm' };
    expect(await probeStageSandboxAsync(options)).toEqual(probeStageSandbox(options));
  });

  it('says bubblewrap cannot make namespaces when the trial run fails, with its first line of stderr, as the blocking probe does', async () => {
    // Prepare: a bwrap on the PATH that refuses, as a kernel without unprivileged user namespaces makes it
    const bin = await mkdtemp(join(tmpdir(), 'refusing-bwrap-'));
    try {
      await writeFile(join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\necho second line >&2\nexit 1\n', { mode: 0o755 });
      const options = { dataDirectory: '/srv/farm/.buildfarm', searchPath: bin };
      // Act
      const [waited, blocking] = [await probeStageSandboxAsync(options), probeStageSandbox(options)];
      // Assess
      expect(waited).toEqual({ kind: 'none', reason: 'bubblewrap cannot make namespaces here (bwrap: No permissions to create new namespace)' });
      expect(blocking).toEqual(waited);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});

describe('Function: toolchainFor', () => {
  it('mounts the install prefix of a node laid out as bin/node and lib/node_modules/npm', () => {
    expect(toolchainFor('/opt/node-v22/bin/node', ['/home/alice'])).toEqual({ toolchain: ['/opt/node-v22'], toolchainPath: ['/opt/node-v22/bin'] });
  });

  it('mounts only the bin directory when the prefix would show a hidden path (a node in ~/bin)', () => {
    expect(toolchainFor('/home/alice/bin/node', ['/home/alice'])).toEqual({ toolchain: ['/home/alice/bin'], toolchainPath: ['/home/alice/bin'] });
    expect(toolchainFor('/bin/node', [])).toEqual({ toolchain: ['/bin'], toolchainPath: ['/bin'] });
  });
});

describe('Function: describeSandbox', () => {
  it('warns loudly without a sandbox, saying what stages can then read', () => {
    const line = describeSandbox({ kind: 'none', reason: 'bubblewrap (bwrap) is not installed' });
    expect(line).toMatch(/^WARNING: stage commands run WITHOUT a sandbox: bubblewrap \(bwrap\) is not installed\./);
    expect(line).toContain('secrets file');
  });

  it('warns loudly when sandboxed stages have no network', () => {
    const line = describeSandbox({
      kind: 'bubblewrap', bwrap: '/usr/bin/bwrap', network: { kind: 'none', reason: 'slirp4netns is not installed' },
      system: [], etc: [], toolchain: [], toolchainPath: [], hidden: [],
    });
    expect(line).toContain('WARNING: NO NETWORK for stages (slirp4netns is not installed)');
  });
});
