/**
 * cfn-lint (AWS's CloudFormation linter, what `sam validate --lint` runs, with the SAM translator)
 * on template.yaml: any error or warning fails, unless listed below with the reason it does not
 * apply. Skips loudly only where cfn-lint is not installed (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEMPLATE_PATH } from '../../support/iam/sam-template.js';

/** Findings knowingly accepted: rule id, a path fragment, and why. None today. */
const ACCEPTED: { rule: string; path: string; why: string }[] = [];

interface Finding {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Location: { Path?: (string | number)[]; Start: { LineNumber: number } };
}

const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const unavailable = version.error ? `cfn-lint is not installed (pip install cfn-lint): ${version.error.message}` : undefined;
if (unavailable) console.warn(`SKIPPED cfn-lint on template.yaml: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`cfn-lint ${version.stdout?.trim()}`, () => {
  it('finds no error and no warning in template.yaml', () => {
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', TEMPLATE_PATH], { encoding: 'utf8', timeout: 180_000 });
    expect(run.error).toBeUndefined();
    const findings: Finding[] = JSON.parse(run.stdout || '[]');
    const open = findings.filter(
      (f) => !ACCEPTED.some((a) => a.rule === f.Rule.Id && (f.Location.Path ?? []).join('/').includes(a.path)),
    );
    expect(open.map((f) => `${f.Level} ${f.Rule.Id} line ${f.Location.Start.LineNumber}: ${f.Message}`)).toEqual([]);
    // cfn-lint exits non-zero exactly when it reports findings (or fails to run).
    if (open.length === 0 && findings.length === 0) expect(run.status).toBe(0);
  }, 180_000);
});
