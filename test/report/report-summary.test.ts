import { describe, expect, it } from 'vitest';
import { reportSummary } from '../../functions/domain/report/report-summary.js';
import { buildReport, fargateStage, lambdaStage } from './support/reports.js';

const LINK = 'https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:1:execution:B:d';

describe('Function: reportSummary', () => {
  it('reads as a headline, the costs against the prediction and all-Fargate, and a stage table', () => {
    // Prepare
    const report = buildReport({
      status: 'failed',
      stages: [
        lambdaStage(),
        fargateStage({ status: 'failed', errorName: 'CommandFailed', reason: 'npm test\nexited 1', escalated: true }),
        lambdaStage({ name: 'deploy', status: 'skipped', durationMs: 0, costUsd: 0, predictedCostUsd: 0.001, reason: 'needs test, which failed' }),
      ],
    });

    // Act
    const text = reportSummary(report, { branch: 'main', link: LINK });

    // Assess
    expect(text).toBe(
      [
        'acme/api main: failed in 5m 02s · $0.0085 (predicted $0.0105) · 1/3 stages passed — failed: test',
        '',
        'build       2026-11-22T10:00:00.000Z  delivery-72d3162e',
        'commit      0123456789abcdef0123456789abcdef01234567 (refs/heads/main)',
        'cost        $0.0085 = compute $0.0072 + 40 transitions $0.0010 + 60 S3 requests $0.0003',
        'predicted   $0.0105 (same basis: compute, orchestration, S3)',
        'all Fargate $0.0123 (this build saved $0.0038)',
        'GitHub      $0.0000 on GitHub-hosted runners (per started minute, prices of 2026-01-01)',
        'prices      us-east-1 as of 2026-08-01: test',
        `execution   ${LINK}`,
        '',
        'stage   status     runner                                       duration  cost     predicted',
        'build   succeeded  Lambda 2048 MB                               2m 14s    $0.0031  $0.0040',
        'test    failed     Fargate 1 vCPU 2 GB (escalated from Lambda)  5m 02s    $0.0041  $0.0050',
        'deploy  skipped    Lambda 2048 MB                               -         $0.0000  $0.0010',
        '',
        'test: CommandFailed: npm test exited 1',
        'deploy: needs test, which failed',
        '',
      ].join('\n'),
    );
  });

  it('says when all-Fargate would have been cheaper, and gives a build error', () => {
    // Prepare
    const report = buildReport({ allFargateCostUsd: 0.005, error: { name: 'StageInfrastructure', message: 'ECS capacity\nunavailable' } });

    // Act
    const text = reportSummary(report, { link: LINK });

    // Assess
    expect(text).toContain('all Fargate $0.0050 (that would have been $0.0035 cheaper)');
    expect(text).toContain('error       StageInfrastructure: ECS capacity unavailable');
  });

  it('shows each cached stage\'s hit, fallback or miss, where it came from and the bytes moved', () => {
    // Prepare
    const report = buildReport({
      stages: [
        lambdaStage({ name: 'install', cache: { key: 'npm-0123456789ab', result: 'fallback', restoredFrom: { key: 'npm-ba9876543210', branch: 'main' }, restoredBytes: 5 * 1024 * 1024, saved: { key: 'npm-0123456789ab', branch: 'main', bytes: 6 * 1024 * 1024 } } }),
        lambdaStage({ name: 'lint', cache: { key: 'npm-0123456789ab', result: 'hit', restoredFrom: { key: 'npm-0123456789ab', branch: 'main' }, restoredBytes: 2048, notSaved: 'the key was an exact hit' } }),
        lambdaStage({ name: 'pr', cache: { key: 'npm-0123456789ab', result: 'miss', restoredBytes: 0, notSaved: 'pull requests and forks never write caches' } }),
      ],
    });

    // Act
    const text = reportSummary(report, { link: LINK });

    // Assess
    expect(text).toContain('install: cache npm-0123456789ab: fallback from npm-ba9876543210 (main), 5.0 MiB down; saved 6.0 MiB to main\n');
    expect(text).toContain('lint: cache npm-0123456789ab: hit from npm-0123456789ab (main), 2.0 KiB down; not saved: the key was an exact hit\n');
    expect(text).toContain('pr: cache npm-0123456789ab: miss; not saved: pull requests and forks never write caches\n');
  });

  it('lists what each stage measured where CPU was measured: peak memory, CPU seconds, average and peak vCPUs', () => {
    // Prepare
    const cpuUsage = { seconds: 4.2, wallSeconds: 2.1, averageVcpu: 2, peakVcpu: 2.3, source: 'process-tree' as const };
    const report = buildReport({ stages: [lambdaStage({ name: 'compile', peakMemoryMiB: 900, cpuUsage }), lambdaStage({ name: 'old' })] });

    // Act
    const text = reportSummary(report, { link: LINK });

    // Assess: a stage nothing measured the CPU of gets no line
    expect(text).toContain('\ncompile: peak 900 MiB, CPU 4.2 s over 2.1 s: average 2.00, peak 2.30 vCPU\n');
    expect(text).not.toMatch(/^old: peak/m);
  });
});
