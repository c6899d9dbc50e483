/**
 * Linear cost through the whole local farm (issue 12): in a chain of stages with no artifacts,
 * the last stages make as many S3 requests as the first. Counted at a proxy in front of the
 * embedded S3 (bench/lib/counting-proxy.ts), so the control plane's requests (Select stages, the
 * waits and releases, the grants) count as well as the runner's. When every stage read every
 * upstream record (issue 12: 5,524 reads for a chain of 30), each position added at least one
 * request, so the last four stages of 20 would make at least 60 more than s2..s5.
 */
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { chainYaml, sharesOf } from '../../bench/chain.js';
import { buildLocally, repositoryWith } from '../../bench/lib/local-build.js';

const CHAIN = 20;
const BATCH = 4;

describe('Linear cost: S3 requests per stage of a chain built by the local farm', () => {
  it(`makes as many requests for each of the last ${BATCH} stages of a chain of ${CHAIN} as for the first ${BATCH} after s1`, async () => {
    // Prepare
    const repository = await repositoryWith(chainYaml(CHAIN));
    try {
      // Act
      const { report, s3Requests } = await buildLocally(repository, 'linear-chain', { countRequests: true, maxStageConcurrency: BATCH });

      // Assess
      expect(report.status).toBe('succeeded');
      const ordered = Array.from({ length: CHAIN }, (_, i) => report.stages.find((s) => s.name === `s${i + 1}`)!);
      const shares = sharesOf(s3Requests!, 'linear-chain', ordered);
      const sum = (n: number[]) => n.reduce((a, b) => a + b, 0);
      // Windows of a whole batch each (s2..s5 and s17..s20: each holds one Select stages).
      const first = sum(shares.slice(0, BATCH).map((s) => s.requests));
      const last = sum(shares.slice(-BATCH).map((s) => s.requests));
      console.info(`linear cost: ${shares.map((s) => s.requests).join(' ')} requests per stage (s2..s${CHAIN})`);
      // A release that meets its waiter half way may read twice: a little slack, far from 4 x 15 more.
      expect(last).toBeLessThanOrEqual(first + 4);
      expect(last).toBeGreaterThanOrEqual(first - 4);
    } finally {
      await rm(repository, { recursive: true, force: true });
    }
  }, 180_000);
});
