/**
 * Where the hand-off socket lives: `DATA/run-handoff/farm.sock`, in a folder of mode 0700 owned
 * by the farm's user. The folder's mode is what keeps other users out (Linux checks search
 * permission on every folder of a socket's path before connect(2); unix(7)), so both sides check
 * it: the farm before it listens, `run` before it connects (a socket someone else planted would
 * otherwise be told the build's paths and could answer with a report of its own making).
 */
import { lstat, mkdir, chmod, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { handOffSocketPath, MAX_SOCKET_PATH_BYTES } from './protocol.js';

export type SocketPlace = { path: string } | { unavailable: string };

/** The farm's side: a private folder, no stale socket in it (the data directory's lock is held: no other farm is using it). */
export async function prepareSocketFolder(dataDirectory: string): Promise<SocketPlace> {
  const path = handOffSocketPath(dataDirectory);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) return { unavailable: `the data directory's path is too long for a unix socket (${path})` };
  const folder = dirname(path);
  await mkdir(folder, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const info = await lstat(folder);
  if (!info.isDirectory() || (process.getuid !== undefined && info.uid !== process.getuid())) {
    return { unavailable: `${folder} is not a folder of this user` };
  }
  await chmod(folder, 0o700);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  return { path };
}

/** `run`'s side: the socket, when a farm's is there and nobody but this user could have put it there. */
export async function trustedSocket(dataDirectory: string): Promise<string | undefined> {
  const path = handOffSocketPath(dataDirectory);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) return undefined;
  const [folder, socket] = await Promise.all([lstat(dirname(path)).catch(() => undefined), lstat(path).catch(() => undefined)]);
  if (folder === undefined || socket === undefined || !folder.isDirectory() || !socket.isSocket()) return undefined;
  const uid = process.getuid?.();
  if (uid !== undefined && (folder.uid !== uid || socket.uid !== uid)) return undefined;
  if ((folder.mode & 0o077) !== 0) return undefined;
  return path;
}
