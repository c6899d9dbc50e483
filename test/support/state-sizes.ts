/**
 * Measures every state's input and output as the local interpreter runs a build, in UTF-8 bytes
 * of their JSON: what Step Functions counts against its 256 KiB (262,144 bytes) per-state limit
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions).
 */
import type { LocalEvent, LocalTaskBindings } from '../../functions/local/state-machine-runner.js';

export const STATE_PAYLOAD_LIMIT_BYTES = 262_144;

export interface StateSize {
  state: string;
  kind: 'input' | 'output';
  bytes: number;
}

export class StateSizes {
  readonly largest = new Map<string, StateSize>();

  /** Pass as `onEvent` of runBuildLocally. */
  readonly record = (event: LocalEvent): void => {
    if (!event.state) return;
    for (const kind of ['input', 'output'] as const) {
      const value = event.state[kind];
      if (value !== undefined) this.note(event.state.name, kind, value);
    }
  };

  /**
   * The bindings, measuring what each task is sent and returns: a Task's effective input (its
   * `Parameters`, which the interpreter's events do not show) counts against the limit too.
   */
  wrap(bindings: LocalTaskBindings): LocalTaskBindings {
    const wrapped = { ...bindings } as Record<string, unknown>;
    for (const [name, fn] of Object.entries(bindings) as [string, (...args: unknown[]) => Promise<unknown>][]) {
      wrapped[name] = async (...args: unknown[]) => {
        this.note(`${name} task`, 'input', args[0]);
        const output = await fn(...args);
        this.note(`${name} task`, 'output', output);
        return output;
      };
    }
    return wrapped as unknown as LocalTaskBindings;
  }

  private note(state: string, kind: 'input' | 'output', value: unknown): void {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
    const key = `${state} ${kind}`;
    if ((this.largest.get(key)?.bytes ?? -1) < bytes) this.largest.set(key, { state, kind, bytes });
  }

  /** The biggest payload seen, and where. */
  max(): StateSize {
    return [...this.largest.values()].reduce((a, b) => (b.bytes > a.bytes ? b : a), { state: '', kind: 'input', bytes: 0 });
  }
}
