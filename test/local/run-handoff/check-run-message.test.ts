/**
 * What the farm accepts from a `run` over the hand-off socket: the settings must be the farm's own
 * (else `run` builds by itself), and nothing in the message may name a path outside where the
 * farm builds (the build id is a folder of DATA/builds and an S3 prefix).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FARM_POLICY } from '../../../functions/domain/plan/farm-policy.js';
import { checkRunMessage } from '../../../functions/local/run-handoff/check-run-message.js';
import { farmSettings, settingsDifferences } from '../../../functions/local/run-handoff/protocol.js';
import { loadPriceBook, plannerConfig } from '../../../functions/cli/farm-config.js';

const prices = await loadPriceBook({}, {});
const ours = farmSettings(plannerConfig({}, {}), prices, DEFAULT_FARM_POLICY, 2, {});

function message(overrides: Record<string, unknown> = {}, request: Record<string, unknown> = {}, repository: Record<string, unknown> = {}) {
  const buildId = (overrides.buildId as string | undefined) ?? 'run-20261202040000-abcdef1';
  // Through JSON, as the socket carries it.
  return JSON.parse(
    JSON.stringify({
      type: 'run',
      settings: ours,
      buildId,
      request: {
        deliveryId: buildId,
        event: 'push',
        repository: 'local/app',
        cloneUrl: '/home/u/app',
        ref: 'refs/heads/main',
        branch: 'main',
        sha: 'abcdef1234567890abcdef1234567890abcdef12',
        fromFork: false,
        message: 'change',
        sender: 'local',
        receivedAt: '2026-12-02T04:00:00.000Z',
        ...request,
      },
      repository: { repository: 'local/app', path: '/home/u/app', ...repository },
      ...overrides,
    }),
  ) as Record<string, unknown>;
}

describe('checkRunMessage', () => {
  it('accepts a run of the farm\'s own settings, with the repository it names', () => {
    const checked = checkRunMessage(message({}, {}, { subdirectory: 'services/api' }), ours);
    expect(checked).toMatchObject({ ok: true, buildId: 'run-20261202040000-abcdef1', repository: { repository: 'local/app', path: '/home/u/app', subdirectory: 'services/api' } });
  });

  it('refuses other settings, naming which differ', () => {
    const theirs = farmSettings(plannerConfig({ region: 'eu-west-1' }, {}), prices, { ...DEFAULT_FARM_POLICY, optimize: 'cost' }, 1, { BUILDFARM_SANDBOX: 'off' });
    expect(settingsDifferences(ours, theirs)).toEqual(['planner.region', 'policy.optimize', 'maxStageConcurrency', 'sandboxSetting']);
    const checked = checkRunMessage(message({ settings: theirs }), ours);
    expect(checked).toEqual({
      ok: false,
      refused: 'buildfarm serve was started with other settings: --region, --optimize, --stage-concurrency, BUILDFARM_SANDBOX (flags or their environment variables)',
    });
  });

  it('compares settings whatever order their keys came in', () => {
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(ours)) as object).reverse());
    expect(checkRunMessage(message({ settings: reordered }), ours).ok).toBe(true);
  });

  it.each([
    ['a path as the build id', { buildId: '../../etc' }, {}, {}, /buildId/],
    ['an empty build id', { buildId: '' }, {}, {}, /buildId/],
    ['a delivery id other than the build id', {}, { deliveryId: 'other' }, {}, /deliveryId/],
    ['a fork', {}, { fromFork: true }, {}, /never a fork/],
    ['a pull request', {}, { event: 'pull_request' }, {}, /never a fork/],
    ['a missing sha', {}, { sha: undefined }, {}, /request\.sha/],
    ['another repository than the request\'s', {}, {}, { repository: 'someone/else' }, /repository\.repository/],
    ['a relative repository path', {}, {}, { path: 'app' }, /repository\.path/],
    ['a subdirectory that climbs out', {}, {}, { subdirectory: 'a/../../x' }, /subdirectory/],
    ['an absolute subdirectory', {}, {}, { subdirectory: '/etc' }, /subdirectory/],
  ])('refuses %s', (_name, overrides, request, repository, reason) => {
    const checked = checkRunMessage(message(overrides, request, repository), ours);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.refused).toMatch(reason);
  });

  it('refuses a message without settings', () => {
    expect(checkRunMessage({ type: 'run' }, ours)).toEqual({ ok: false, refused: 'the run message has no settings' });
  });
});
