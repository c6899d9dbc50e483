import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { yamlParse } from 'yaml-cfn';
import { LAMBDA_RUNNER_ARCHITECTURE, LAMBDA_RUNNER_TIERS_MB } from '../../functions/domain/sizing/lambda-sizes.js';

type Resource = { Type: string; Properties?: { MemorySize?: number; Architectures?: string[]; Handler?: string } };

describe('template.yaml: the Lambda runners', () => {
  it('are deployed on the architecture the planner prices Lambda stages at', () => {
    const template = yamlParse(readFileSync(new URL('../../template.yaml', import.meta.url), 'utf8')) as { Resources: Record<string, Resource> };
    const runners = Object.entries(template.Resources).filter(([name, r]) => r.Type === 'AWS::Serverless::Function' && /^LambdaRunner\d+Function$/.test(name));
    expect(runners.map(([, r]) => r.Properties?.MemorySize).sort((a, b) => a! - b!)).toEqual([...LAMBDA_RUNNER_TIERS_MB]);
    for (const [, runner] of runners) expect(runner.Properties?.Architectures).toEqual([LAMBDA_RUNNER_ARCHITECTURE]);
  });
});
