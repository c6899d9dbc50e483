import { describe, expect, it } from 'vitest';
import { InvalidFarmSetting } from '../../../functions/domain/plan/farm-policy.js';
import { BALANCED_USD_PER_WAIT_SECOND, FARGATE_STARTUP_WAIT_MS, LAMBDA_STARTUP_WAIT_MS, parseOptimizeGoal, pickByGoal } from '../../../functions/domain/plan/optimize.js';

describe('Function: pickByGoal', () => {
  // The case: a 34 s stage where Fargate is $0.0003 cheaper (hand-computed figures).
  // Lambda 1024 MB x 34 s: 34 GB-s x $0.0000166667 + $0.0000002 = $0.000566868.
  // Fargate 0.25 vCPU / 0.5 GB, 34 s + 20 s pull -> the 60 s minimum: (0.25 x 0.04048 + 0.5 x 0.004445) x 60/3600 = $0.00020571.
  const lambda34 = { costUsd: 0.000566868, wallMs: 34_000 + LAMBDA_STARTUP_WAIT_MS };
  const fargate34 = { costUsd: 0.00020571, wallMs: 34_000 + FARGATE_STARTUP_WAIT_MS };

  it('balanced keeps a 34 s stage on Lambda: $0.00036 saved is worth 0.72 s of wait, Fargate adds 39 s', () => {
    const verdict = pickByGoal('balanced', lambda34, fargate34);
    expect(verdict.runner).toBe('lambda');
    expect(verdict.because).toMatch(/^Fargate would save only \$0\.000361 for 39s more wait/);
  });

  it('cost moves the same stage to Fargate, as the farm did before the policy', () => {
    expect(pickByGoal('cost', lambda34, fargate34).runner).toBe('fargate');
  });

  it('time keeps it on Lambda whatever it costs', () => {
    expect(pickByGoal('time', { costUsd: 1, wallMs: 35_000 }, { costUsd: 0.01, wallMs: 74_000 }).runner).toBe('lambda');
  });

  it('balanced moves a stage to Fargate once the saving outweighs the wait: the break-even is $0.0195 for 39 s', () => {
    // 39 s x $0.0005 = $0.0195: a saving just over it moves the stage, just under it does not.
    const lambda = { costUsd: 0.05, wallMs: 601_000 };
    const over = pickByGoal('balanced', lambda, { costUsd: 0.05 - 0.0196, wallMs: 640_000 });
    const under = pickByGoal('balanced', lambda, { costUsd: 0.05 - 0.0194, wallMs: 640_000 });
    expect(over.runner).toBe('fargate');
    expect(over.because).toMatch(/^saves \$0\.0196 for 39s more wait/);
    expect(under.runner).toBe('lambda');
    expect(BALANCED_USD_PER_WAIT_SECOND * 39).toBeCloseTo(0.0195, 10);
  });

  it('balanced takes the cheaper runner when it is also the sooner one', () => {
    expect(pickByGoal('balanced', { costUsd: 0.001, wallMs: 10_000 }, { costUsd: 0.002, wallMs: 50_000 }).runner).toBe('lambda');
    expect(pickByGoal('balanced', { costUsd: 0.002, wallMs: 60_000 }, { costUsd: 0.001, wallMs: 50_000 }).runner).toBe('fargate');
  });
});

describe('Function: parseOptimizeGoal', () => {
  it('takes the three goals and names the setting and the allowed values otherwise', () => {
    expect(parseOptimizeGoal(' time ', '--optimize')).toBe('time');
    expect(() => parseOptimizeGoal('fast', '--optimize')).toThrow(InvalidFarmSetting);
    expect(() => parseOptimizeGoal('fast', 'BUILDFARM_OPTIMIZE')).toThrow('BUILDFARM_OPTIMIZE: "fast" is not an optimize goal; allowed: cost, time, balanced');
  });
});
