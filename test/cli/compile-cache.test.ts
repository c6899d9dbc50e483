/**
 * The CLI's V8 compile cache is used only when nobody else can change the cache folder or any
 * folder above it (OpenSSH's rule for ~/.ssh): with XDG_CACHE_HOME in a shared place, another
 * user could otherwise swap a folder for a link to one they control and plant compiled code.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { safeCacheDirectory } from '../../bin/compile-cache.mjs';

/** nobody's uid: another user (only root can give it a folder). */
const OTHER_UID = 65534;
const isRoot = process.getuid?.() === 0;

describe('Function: safeCacheDirectory', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'compile-cache-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('uses the folder, resolved, when only the user and root can change it and every folder above (the sticky /tmp included)', () => {
    // Act
    const directory = safeCacheDirectory({ XDG_CACHE_HOME: join(root, 'cache') });
    // Assess
    expect(directory).toBe(join(realpathSync(root), 'cache', 'buildfarm', 'node-compile-cache'));
  });

  it('refuses a cache under a folder that others can write (not sticky)', () => {
    // Prepare
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    // Act
    const directory = safeCacheDirectory({ XDG_CACHE_HOME: join(shared, 'cache') });
    // Assess
    expect(directory).toBeUndefined();
  });

  it('refuses a planted link to a folder that others can write', () => {
    // Prepare: the cache home's buildfarm folder is a link to the attacker's folder
    const attacker = join(root, 'attacker');
    mkdirSync(attacker);
    chmodSync(attacker, 0o777);
    mkdirSync(join(root, 'cache'));
    symlinkSync(attacker, join(root, 'cache', 'buildfarm'));
    // Act
    const directory = safeCacheDirectory({ XDG_CACHE_HOME: join(root, 'cache') });
    // Assess
    expect(directory).toBeUndefined();
  });

  it.skipIf(!isRoot)("refuses a planted link to another user's folder (not writable by others)", () => {
    // Prepare
    const attacker = join(root, 'attacker');
    mkdirSync(join(attacker, 'node-compile-cache'), { recursive: true });
    chownSync(join(attacker, 'node-compile-cache'), OTHER_UID, OTHER_UID);
    chownSync(attacker, OTHER_UID, OTHER_UID);
    mkdirSync(join(root, 'cache'));
    symlinkSync(attacker, join(root, 'cache', 'buildfarm'));
    // Act
    const directory = safeCacheDirectory({ XDG_CACHE_HOME: join(root, 'cache') });
    // Assess
    expect(directory).toBeUndefined();
  });

  it("follows a link between the user's own folders, and names the resolved folder", () => {
    // Prepare
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'cache'));
    // Act
    const directory = safeCacheDirectory({ XDG_CACHE_HOME: join(root, 'cache') });
    // Assess
    expect(directory).toBe(join(realpathSync(root), 'real', 'buildfarm', 'node-compile-cache'));
    expect(readdirSync(join(root, 'real', 'buildfarm'))).toEqual(['node-compile-cache']);
  });
});
