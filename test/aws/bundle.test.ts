/**
 * The bundles SAM would deploy, built here with the template's esbuild options
 * (scripts/bundle.mjs): each loads as CommonJS, exports its handler, and keeps
 * class names through minification (Step Functions routes on error names).
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript module without type declarations
import { bundleFunction, FUNCTIONS, HANDLER_ENTRY_POINTS } from '../../scripts/bundle.mjs';

interface TemplateFunction {
  logicalId: string;
  handler: string;
  entryPoints: string[];
}

const out = mkdtempSync(join(tmpdir(), 'bundles-'));
// As in Lambda's package, no "type": "module" applies to the bundles.
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
const require = createRequire(join(out, 'package.json'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('Module: scripts/bundle.mjs', () => {
  it('lists every entry point of the template, the Fargate helper included', () => {
    expect(HANDLER_ENTRY_POINTS).toContain('functions/handlers/fargate-prepare.ts');
    expect(HANDLER_ENTRY_POINTS).toContain('functions/runner/fargate-helper.ts');
  });

  it.each((FUNCTIONS as TemplateFunction[]).map((f) => [f.logicalId, f] as const))(
    '%s bundles into a CommonJS module whose Handler is a function',
    async (_id, fn) => {
      const result = await bundleFunction(fn, out);
      expect(result.warnings).toEqual([]);
      const dot = fn.handler.lastIndexOf('.');
      const module = require(join(result.outdir, `${fn.handler.slice(0, dot)}.js`));
      expect(typeof module[fn.handler.slice(dot + 1)]).toBe('function');
    },
  );

  it('keeps error class names through minification', async () => {
    const fn = (FUNCTIONS as TemplateFunction[]).find((f) => f.logicalId === 'FargatePrepareFunction')!;
    const result = await bundleFunction(fn, out);
    const { handler } = require(join(result.outdir, 'handlers/fargate-prepare.js'));
    const env = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      ARTIFACT_BUCKET: 'bucket',
      TASK_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/exec',
      TASK_ROLE_ARN: 'arn:aws:iam::123456789012:role/task',
      TASK_LOG_GROUP: 'tasks',
      STAGE_CREDENTIALS_FUNCTION: 'arn:aws:lambda:eu-west-1:123456789012:function:stage-credentials',
    });
    try {
      const error: Error = await handler({ buildId: '', stageName: 's', planKey: 'k' }).catch((e: Error) => e);
      expect(error.name).toBe('InvalidPrepareInput');
      expect(error.constructor.name).toBe('InvalidPrepareInput');
    } finally {
      process.env = env;
    }
  });
});
