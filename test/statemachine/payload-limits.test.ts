/**
 * Every state's input and output stays under Step Functions' 256 KiB whatever the webhook brings:
 * the largest delivery GitHub sends (25 MB) and a build request at its byte budget, through the
 * real normalisation and the real build.asl.json, with a pipeline of many stages, on the success
 * and the error path (a caught error's Cause is at most 32,768 characters).
 */
import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../functions/domain/build-request.js';
import { normaliseDelivery } from '../../functions/domain/webhook/normalise.js';
import { jsonBytes, MAX_BUILD_REQUEST_BYTES } from '../../functions/domain/webhook/request-size.js';
import { MAX_BODY_BYTES } from '../../functions/handlers/webhook-core.js';
import { runBuildLocally } from '../../functions/local/state-machine-runner.js';
import { StateSizes, STATE_PAYLOAD_LIMIT_BYTES } from '../support/state-sizes.js';
import { BUILD_ID, createFarm, NamedError, type ScenarioStage } from './support/farm.js';

/** A push delivery of about `bytes` bytes: GitHub's push payload lists up to 2,048 commits with their files. */
function pushDelivery(bytes: number, distinctFiles: boolean): Record<string, unknown> {
  const commits: Record<string, unknown>[] = [];
  const path = (c: number, f: number) => `src/${'deeply-nested-directory/'.repeat(6)}${distinctFiles ? `c${c}-` : ''}file-${f}-ü😀.ts`;
  const perCommit = Math.ceil(bytes / 2048 / (path(0, 0).length + 3) / 3);
  for (let c = 0; c < 2048; c++) {
    const files = Array.from({ length: perCommit }, (_, f) => path(c, f));
    commits.push({ id: c.toString(16).padStart(40, '0'), message: 'change', added: files, modified: files, removed: files });
  }
  return {
    ref: 'refs/heads/main',
    after: 'a'.repeat(40),
    deleted: false,
    repository: { full_name: 'octo/app', clone_url: 'https://github.com/octo/app.git' },
    head_commit: { message: `${'Ünïcödé 😀 \u0001'.repeat(2000)}` },
    sender: { login: 'octo' },
    commits,
  };
}

function requestFrom(payload: Record<string, unknown>): BuildRequest {
  const decision = normaliseDelivery({ event: 'push', deliveryId: 'd-big', payload, receivedAt: new Date('2026-11-22T10:00:00Z') });
  if (!decision.build) throw new Error(decision.reason);
  return decision.request;
}

/** Many stages: one wide wave (Select stages returns all of them) and a chain (many waves). */
function bigPipeline(): Record<string, ScenarioStage> {
  const stages: Record<string, ScenarioStage> = {};
  for (let i = 0; i < 150; i++) stages[`wide-stage-with-a-long-name-${i}`] = { runner: i % 2 ? 'fargate' : 'lambda' };
  for (let i = 0; i < 60; i++) stages[`chain-${i}`] = { runner: 'lambda', needs: i === 0 ? ['wide-stage-with-a-long-name-0'] : [`chain-${i - 1}`] };
  return stages;
}

async function measure(request: BuildRequest, farm = createFarm(bigPipeline())) {
  const sizes = new StateSizes();
  const result = await runBuildLocally({ buildId: BUILD_ID, request }, sizes.wrap(farm.bindings), { onEvent: sizes.record });
  return { sizes, result };
}

describe('State payloads (256 KiB per state input and output)', () => {
  it('the largest delivery GitHub sends (25 MB) keeps every state under the limit', async () => {
    // Prepare
    const payload = pushDelivery(MAX_BODY_BYTES, true);
    expect(JSON.stringify(payload).length).toBeGreaterThan(20 * 1024 * 1024);
    const request = requestFrom(payload);

    // Act
    const { sizes, result } = await measure(request);

    // Assess
    expect(result.output.status).toBe('succeeded');
    expect(sizes.max().bytes).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
  }, 120_000);

  it('a build request at its byte budget, on the success path and through a caught error, keeps every state under the limit', async () => {
    // Prepare: a changed-file list just under its share, and the longest message
    let files = 1;
    let request = requestFrom(pushDelivery(1, false));
    for (;;) {
      const next = { ...request, changedFiles: Array.from({ length: files + 10 }, (_, i) => `src/${'ü'.repeat(40)}/${i}.ts`) };
      if (jsonBytes(next) > MAX_BUILD_REQUEST_BYTES - 1024) break;
      request = next;
      files += 10;
    }
    expect(jsonBytes(request)).toBeGreaterThan(MAX_BUILD_REQUEST_BYTES - 4096);
    const failing = createFarm(bigPipeline());
    failing.bindings.schedule = async () => {
      throw new NamedError('StoreUnavailable', 'x'.repeat(40_000));
    };

    // Act
    const ok = await measure(request);
    const failed = await measure(request, failing);

    // Assess
    expect(ok.result.output.status).toBe('succeeded');
    expect(failed.result.output.status).not.toBe('succeeded');
    expect(ok.sizes.max().bytes).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
    expect(failed.sizes.max().bytes).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
  }, 120_000);

  it('a push listing ~4,000 changed files (the report that failed with States.DataLimitExceeded) keeps every state under the limit', async () => {
    // Prepare: just under the 128 KiB of file names the farm used to carry, twice, into Report
    const files = Array.from({ length: 3970 }, (_, i) => `src/components/widget-${String(i).padStart(4, '0')}.tsx`);
    expect(JSON.stringify(files).length).toBeLessThan(128 * 1024);
    const request = requestFrom({ ...pushDelivery(1, false), commits: [{ id: '1', message: 'm', added: files }] });

    // Act
    const { sizes, result } = await measure(request, createFarm({ compile: { runner: 'lambda' } }));

    // Assess
    expect(result.output.status).toBe('succeeded');
    expect(sizes.max().bytes).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
  });
});
