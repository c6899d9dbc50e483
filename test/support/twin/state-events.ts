/**
 * The order in which an execution's states began and ended, per stage, read from
 * GetExecutionHistory's `*StateEntered` and `*StateExited` events. Event ids grow in the order the
 * engine recorded them, so this is the order of the waits' releases and of the stages' ends as the
 * engine saw them, not as a test's clock did.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

export interface StateEvent {
  kind: 'entered' | 'exited';
  /** The state's name, e.g. `Wait, then run on Lambda`. */
  state: string;
  /** The stage whose Map iteration it was (undefined outside the stages' iterations). */
  stage?: string;
}

/** A stage iteration's state carries `stage` as the plan's object; `Run on Lambda`'s result as its name. */
function stageOf(json: string | undefined): string | undefined {
  if (!json) return undefined;
  const value = JSON.parse(json) as { stage?: unknown };
  if (typeof value?.stage === 'string') return value.stage;
  const named = value?.stage as { name?: unknown } | undefined;
  return typeof named?.name === 'string' ? named.name : undefined;
}

export function stateEvents(history: HistoryEvent[]): StateEvent[] {
  return [...history]
    .sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
    .flatMap((event): StateEvent[] => {
      if (event.type?.endsWith('StateEntered') && event.stateEnteredEventDetails) {
        return [{ kind: 'entered', state: event.stateEnteredEventDetails.name!, stage: stageOf(event.stateEnteredEventDetails.input) }];
      }
      if (event.type?.endsWith('StateExited') && event.stateExitedEventDetails) {
        return [{ kind: 'exited', state: event.stateExitedEventDetails.name!, stage: stageOf(event.stateExitedEventDetails.output) }];
      }
      return [];
    });
}

/** Where in `events` the state `state` of `stage` was entered or exited (-1 when it was not). */
export function eventIndex(events: StateEvent[], kind: StateEvent['kind'], state: string, stage: string): number {
  return events.findIndex((event) => event.kind === kind && event.stage === stage && event.state === state);
}
