import { describe, expect, it } from 'vitest';
import type { RunningBuild } from '../../../functions/domain/webhook/execution-input.js';
import { buildsToStop, supersededBy } from '../../../functions/domain/webhook/superseded.js';
import { aBuildRequest } from '../../support/build-requests.js';
import type { BuildRequest } from '../../../functions/domain/build-request.js';

function running(arn: string, overrides: Partial<BuildRequest>): RunningBuild {
  return { executionArn: arn, input: { buildId: arn, request: aBuildRequest(overrides) } };
}

describe('Function: supersededBy', () => {
  const newer = aBuildRequest({ deliveryId: 'new', receivedAt: '2026-11-22T12:05:00.000Z' });

  it('picks older builds of the same repository, event and branch', () => {
    // Prepare
    const builds = [
      running('older', { deliveryId: 'd1', receivedAt: '2026-11-22T12:00:00.000Z' }),
      running('older-other-case', { deliveryId: 'd2', repository: 'ACME/api', receivedAt: '2026-11-22T12:01:00.000Z' }),
    ];

    // Act & Assess
    expect(supersededBy(newer, builds).map((b) => b.executionArn)).toEqual(['older', 'older-other-case']);
  });

  it('never picks a build received later: a late delivery must not stop a newer push', () => {
    // Prepare
    const builds = [running('later', { deliveryId: 'd1', receivedAt: '2026-11-22T12:06:00.000Z' })];

    // Act & Assess
    expect(supersededBy(newer, builds)).toEqual([]);
  });

  it('leaves other branches, repositories, events, pull requests and itself alone', () => {
    // Prepare
    const at = '2026-11-22T12:00:00.000Z';
    const builds = [
      running('other-branch', { deliveryId: 'd1', branch: 'dev', receivedAt: at }),
      running('other-repo', { deliveryId: 'd2', repository: 'acme/web', receivedAt: at }),
      running('pull-request', { deliveryId: 'd3', event: 'pull_request', pullRequest: 7, receivedAt: at }),
      running('itself', { deliveryId: 'new', receivedAt: at }),
      running('bad-date', { deliveryId: 'd4', receivedAt: 'yesterday' }),
    ];

    // Act & Assess
    expect(supersededBy(newer, builds)).toEqual([]);
  });

  it('matches pull request builds by pull request number', () => {
    // Prepare
    const pr = aBuildRequest({ deliveryId: 'new', event: 'pull_request', branch: 'feature', pullRequest: 7, receivedAt: '2026-11-22T12:05:00.000Z' });
    const at = '2026-11-22T12:00:00.000Z';
    const builds = [
      running('same-pr', { deliveryId: 'd1', event: 'pull_request', branch: 'feature', pullRequest: 7, receivedAt: at }),
      running('other-pr', { deliveryId: 'd2', event: 'pull_request', branch: 'feature', pullRequest: 8, receivedAt: at }),
    ];

    // Act & Assess
    expect(supersededBy(pr, builds).map((b) => b.executionArn)).toEqual(['same-pr']);
  });
});

describe('Function: buildsToStop', () => {
  const current: RunningBuild = {
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:farm-build:current',
    input: { buildId: 'current', request: aBuildRequest({ deliveryId: 'new', receivedAt: '2026-11-22T12:05:00.000Z' }) },
  };

  it('never stops the build that asks, even listed under another delivery', () => {
    // Prepare: the current execution as ListExecutions lists it, and as a copy under another build id.
    const olderAt = '2026-11-22T12:00:00.000Z';
    const listed = [
      { executionArn: current.executionArn, input: { buildId: 'current', request: aBuildRequest({ deliveryId: 'd0', receivedAt: olderAt }) } },
      { executionArn: 'arn:other', input: { buildId: 'current', request: aBuildRequest({ deliveryId: 'd1', receivedAt: olderAt }) } },
      running('older', { deliveryId: 'd2', receivedAt: olderAt }),
    ];

    // Act & Assess
    expect(buildsToStop(current, listed).map((b) => b.executionArn)).toEqual(['older']);
  });

  it('stops nothing received after the build that asks', () => {
    // Prepare
    const listed = [running('newer', { deliveryId: 'd1', receivedAt: '2026-11-22T12:06:00.000Z' })];

    // Act & Assess
    expect(buildsToStop(current, listed)).toEqual([]);
  });
});
