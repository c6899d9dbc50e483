/**
 * The EventBridge rule that reports executions ending without their Report state: its pattern,
 * evaluated the way EventBridge matches (every pattern field's list holds the event's value:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html), against
 * an event shaped like AWS's example (events/report-execution-aborted.json).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { yamlParse } from 'yaml-cfn';
import { UNREPORTED_END_STATUSES } from '../../functions/domain/report/execution-end.js';
import { loadEvent } from '../support/events.js';

const ROOT = resolve(import.meta.dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const template: any = yamlParse(readFileSync(join(ROOT, 'template.yaml'), 'utf8'));

/** The template's ${AWS::...} pseudo parameters for a stack named buildfarm in us-east-1. */
function substitute(value: unknown): unknown {
  const sub = (value as { 'Fn::Sub'?: string })?.['Fn::Sub'];
  if (typeof sub !== 'string') return value;
  return sub.replace('${AWS::Partition}', 'aws').replace('${AWS::Region}', 'us-east-1').replace('${AWS::AccountId}', '123456789012').replace('${AWS::StackName}', 'buildfarm');
}

function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return expected.map(substitute).includes(actual);
    return typeof actual === 'object' && actual !== null && matches(expected as Record<string, unknown>, actual as Record<string, unknown>);
  });
}

const rule = template.Resources.ReportFunction.Properties.Events.UnreportedExecutionEnd;

describe('template.yaml: the rule that reports executions ending without Report', () => {
  it('sends the report function the end of a stopped, timed-out or failed execution of the build state machine only', () => {
    // Prepare
    const event = loadEvent<Record<string, any>>('report-execution-aborted.json');
    const of = (status: string, machine = event.detail.stateMachineArn) => ({ ...event, detail: { ...event.detail, status, stateMachineArn: machine } });

    // Assess
    expect(rule.Type).toBe('EventBridgeRule');
    expect(template.Resources.BuildStateMachine.Properties.Name).toEqual({ 'Fn::Sub': '${AWS::StackName}-build' });
    for (const status of UNREPORTED_END_STATUSES) expect(matches(rule.Properties.Pattern, of(status))).toBe(true);
    // SUCCEEDED ran Report; RUNNING is a start; another state machine is not the farm's.
    expect(matches(rule.Properties.Pattern, of('SUCCEEDED'))).toBe(false);
    expect(matches(rule.Properties.Pattern, of('RUNNING'))).toBe(false);
    expect(matches(rule.Properties.Pattern, of('ABORTED', 'arn:aws:states:us-east-1:123456789012:stateMachine:other'))).toBe(false);
  });

  it('retries delivery for a while: a build must not stay pending because the function was throttled', () => {
    expect(rule.Properties.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
  });
});
