// How the farm's processes ask glibc's malloc to give freed memory back (issue 11: "RSS comes
// back down after the load"). Plain JavaScript: bin/buildfarm.mjs applies it before anything
// else loads, and tests start farm processes with the same settings.
//
// Why: Node allocates every socket and pipe read (up to 64 KiB) and every Buffer over 4 KiB with
// malloc. glibc serves those from the main heap below its mmap threshold (128 KiB, and raised up
// to 32 MiB each time a larger mmapped block is freed), and it returns heap memory to the system
// only from the top of the heap. After 150 concurrent 25 MiB webhook bodies the farm's V8 heap and
// its live ArrayBuffers were back at their idle size, yet [heap] in /proc/PID/smaps held 100 MiB:
// freed chunks with a few live ones above them, kept for reuse, never returned.
// A fixed threshold of 8 KiB (which also turns off the dynamic raise) puts those allocations in
// mappings of their own, unmapped when freed. Measured through `buildfarm serve`
// (test/hostile/load/unsigned-bodies.ts, 150 x 25 MiB): 10 s after the load, RSS idle + 128 MiB
// without it; idle + 32 and idle + 5 MiB (two waves) with it. 16 KiB returned less (idle + 80).
// https://man7.org/linux/man-pages/man3/mallopt.3.html (M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_)

/** The environment variables that carry the setting (read by glibc when a process starts). */
export const MALLOC_TUNING = Object.freeze({ MALLOC_MMAP_THRESHOLD_: '8192' });

/**
 * The commands that keep a farm running (and so must give memory back): the others end within
 * seconds, and re-executing them would add a second Node start to `run`'s fixed overhead.
 */
export const LONG_RUNNING_COMMANDS = Object.freeze(['serve']);

/** True when the command line (process.argv.slice(2)) starts a long-running farm. */
export function isLongRunning(args) {
  return LONG_RUNNING_COMMANDS.includes(args[0]);
}

/**
 * True when `env` has no malloc setting of its own: the user's MALLOC_MMAP_THRESHOLD_ or
 * GLIBC_TUNABLES win, and are left as they are.
 */
export function wantsMallocTuning(env, platform = process.platform) {
  return platform === 'linux' && env.MALLOC_MMAP_THRESHOLD_ === undefined && env.GLIBC_TUNABLES === undefined;
}

/** `env` with the farm's malloc setting added (unchanged when it has a setting of its own, or off Linux). */
export function withMallocTuning(env, platform = process.platform) {
  return wantsMallocTuning(env, platform) ? { ...env, ...MALLOC_TUNING } : env;
}
