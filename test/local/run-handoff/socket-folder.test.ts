/**
 * The hand-off socket's folder: private to the farm's user, checked by `run` before it connects,
 * so nobody else can listen in its place (and be told a build's paths, or answer with a report).
 */
import { chmod, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handOffSocketPath } from '../../../functions/local/run-handoff/protocol.js';
import { prepareSocketFolder, trustedSocket } from '../../../functions/local/run-handoff/socket-folder.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function dataDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bf-sock-'));
  dirs.push(dir);
  return dir;
}
function listenOn(path: string): Promise<() => Promise<void>> {
  const server = createServer();
  return new Promise((resolve) => server.listen(path, () => resolve(() => new Promise((done) => server.close(() => done())))));
}

describe('the hand-off socket folder', () => {
  it('is made mode 0700, and a stale socket in it is removed', async () => {
    const data = await dataDirectory();
    await mkdir(join(data, 'run-handoff'), { mode: 0o755 });
    await writeFile(handOffSocketPath(data), 'left by a farm that was killed');
    const place = await prepareSocketFolder(data);
    expect(place).toEqual({ path: handOffSocketPath(data) });
    expect((await lstat(join(data, 'run-handoff'))).mode & 0o777).toBe(0o700);
    await expect(lstat(handOffSocketPath(data))).rejects.toThrow(/ENOENT/);
  });

  it('is trusted by run only while a socket listens in a private folder', async () => {
    const data = await dataDirectory();
    expect(await trustedSocket(data)).toBeUndefined();
    await prepareSocketFolder(data);
    const close = await listenOn(handOffSocketPath(data));
    try {
      expect(await trustedSocket(data)).toBe(handOffSocketPath(data));
      // A folder others may enter: a socket someone else could have put there is not used.
      await chmod(join(data, 'run-handoff'), 0o755);
      expect(await trustedSocket(data)).toBeUndefined();
    } finally {
      await close();
    }
  });

  it('is not a plain file or a folder reached through a link', async () => {
    const data = await dataDirectory();
    await mkdir(join(data, 'run-handoff'), { mode: 0o700 });
    await writeFile(handOffSocketPath(data), '');
    expect(await trustedSocket(data)).toBeUndefined();

    const elsewhere = await dataDirectory();
    const linked = await dataDirectory();
    await symlink(elsewhere, join(linked, 'run-handoff'));
    expect(await prepareSocketFolder(linked)).toEqual({ unavailable: `${join(linked, 'run-handoff')} is not a folder of this user` });
    expect(await trustedSocket(linked)).toBeUndefined();
  });

  it('is off when the data directory\'s path is too long for a unix socket', async () => {
    const data = join(await dataDirectory(), 'x'.repeat(120));
    expect(await prepareSocketFolder(data)).toMatchObject({ unavailable: expect.stringMatching(/too long for a unix socket/) });
    expect(await trustedSocket(data)).toBeUndefined();
  });
});
