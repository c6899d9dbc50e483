/**
 * Tells bubblewrap's own failure from the command's exit. bwrap exits 1 when it cannot set
 * the sandbox up (a bind source missing, `loopback: Failed RTM_NEWADDR` on a loaded
 * machine), and a command may exit 1 too: the exit code alone cannot say whose it was.
 * bwrap's --json-status-fd can: it writes `{ "child-pid": N, ... }` once the sandbox's init
 * exists, and `{ "exit-code": N }` when the command ends, but only when the command was
 * started: bwrap writes that line only if its setup finished (the child signals it on a
 * close-on-exec pipe right before exec). No exit-code line, and bwrap exited: the command
 * never ran. The descriptor is closed inside the sandbox, so the command cannot forge it.
 *
 * https://github.com/containers/bubblewrap/blob/main/bwrap.xml (--json-status-fd)
 * https://github.com/containers/bubblewrap/blob/main/bubblewrap.c (report_child_exit_status)
 */
import type { Readable } from 'node:stream';

export interface SandboxStatus {
  /** bwrap reported the command's exit: the sandbox was set up and the command ran. */
  commandStarted: boolean;
  /** The command's own exit status as bwrap reported it (128 + n for a signal n). */
  exitCode?: number;
}

/** Longest status text read (two short JSON lines; more is not bwrap's). */
const MAX_STATUS_BYTES = 4096;

/** Reads bwrap's --json-status-fd until bwrap closes it (when it exits). */
export function readSandboxStatus(stream: Readable): Promise<SandboxStatus> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      if (text.length < MAX_STATUS_BYTES) text += chunk.toString('utf8');
    });
    const done = () => resolve(parseSandboxStatus(text));
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

/** The status from bwrap's lines: one JSON object per line. */
export function parseSandboxStatus(text: string): SandboxStatus {
  for (const line of text.split('\n')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const exitCode = (parsed as { 'exit-code'?: unknown } | null)?.['exit-code'];
    if (typeof exitCode === 'number' && Number.isInteger(exitCode)) return { commandStarted: true, exitCode };
  }
  return { commandStarted: false };
}
