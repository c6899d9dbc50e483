// V8's code cache on disk for the CLI (Node >= 22.1, module.enableCompileCache): the bundle and
// s3rver's CommonJS tree (loaded from node_modules file by file) are compiled once, not at every
// start (issue 12's fixed overhead). Plain JavaScript: bin/buildfarm.mjs turns it on before
// anything else loads.
//
// Not Node's default <tmpdir>/node-compile-cache: /tmp is shared, and whoever made that folder
// first (another local user, or a stage run without the sandbox) could plant compiled code the
// farm would then run. So a folder of this user's own, ${XDG_CACHE_HOME:-~/.cache}/buildfarm/
// node-compile-cache, mode 0700, and used only when nobody else can change what it holds:
// neither the folder nor any folder above it. A folder above it that someone else can write
// (XDG_CACHE_HOME in a shared place) lets them swap the folder below for a link to one they
// control. The rule is OpenSSH's for ~/.ssh (safe_path in misc.c): every directory from the
// cache up to / is owned by the user or root and not writable by group or others; its
// exception here is a root-owned sticky directory (/tmp, 1777), where nobody may rename or
// remove what another user made. The path is resolved first (links followed) and the resolved
// path is what Node uses, so a link checked now cannot be swapped afterwards. When the path is
// not safe, the CLI runs without a compile cache (only slower), with no error.
// NODE_COMPILE_CACHE names another folder (the user's choice, not checked);
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// https://nodejs.org/api/module.html#moduleenablecompilecachecachedir
// https://github.com/openssh/openssh-portable/blob/master/misc.c (safe_path)
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import module from 'node:module';

const STICKY = 0o1000;

/** Turns V8's compile cache on in this user's own folder, when it exists and is safe; else nothing. */
export function enableOwnCompileCache(env = process.env) {
  if (typeof module.enableCompileCache !== 'function') return;
  if (env.NODE_COMPILE_CACHE) return void module.enableCompileCache();
  const directory = safeCacheDirectory(env);
  if (directory !== undefined) module.enableCompileCache(directory);
}

/** The resolved cache folder when only this user (or root) can change it or any folder above it. */
export function safeCacheDirectory(env = process.env) {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const wanted = join(base, 'buildfarm', 'node-compile-cache');
  try {
    mkdirSync(wanted, { recursive: true, mode: 0o700 });
    const directory = realpathSync(wanted);
    const ownUid = process.getuid?.();
    if (ownUid === undefined) return directory;
    const own = statSync(directory);
    if (own.uid !== ownUid || (own.mode & 0o022) !== 0) return undefined;
    for (let above = dirname(directory); ; above = dirname(above)) {
      if (!safeAncestor(statSync(above), ownUid)) return undefined;
      if (dirname(above) === above) return directory;
    }
  } catch {
    // No cache (a read-only HOME, say): the CLI only starts slower.
    return undefined;
  }
}

/** Owned by the user or root and writable by nobody else; or root's sticky directory (/tmp). */
function safeAncestor(facts, ownUid) {
  if (facts.uid !== ownUid && facts.uid !== 0) return false;
  if ((facts.mode & 0o022) === 0) return true;
  return facts.uid === 0 && (facts.mode & STICKY) !== 0;
}
