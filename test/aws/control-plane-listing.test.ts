/**
 * S3 answers a missing key with 404 only to a caller allowed s3:ListBucket on the bucket, and a
 * GetObject carries no s3:prefix (test/adapters/aws/s3-absence.test.ts shows the 403 otherwise).
 * The control-plane functions run no user code, so they hold ListBucket without a prefix
 * condition; the roles near user code keep theirs.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { yamlParse } from 'yaml-cfn';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const template: any = yamlParse(readFileSync(join(resolve(import.meta.dirname, '../..'), 'template.yaml'), 'utf8'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function listBucketStatements(logicalId: string): any[] {
  const policies = template.Resources[logicalId].Properties.Policies ?? [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return policies.flatMap((p: any) => p.Statement ?? []).filter((s: any) => [s.Action].flat().includes('s3:ListBucket'));
}

describe('template.yaml: s3:ListBucket of the control plane', () => {
  for (const id of ['PlanFunction', 'ScheduleFunction', 'ReportFunction', 'FargatePrepareFunction']) {
    it(`${id} may list the bucket without a prefix condition, so its reads of missing keys get 404`, () => {
      const statements = listBucketStatements(id);
      expect(statements).toHaveLength(1);
      expect(statements[0].Resource).toEqual({ 'Fn::GetAtt': ['ArtifactBucket', 'Arn'] });
      expect(statements[0].Condition).toBeUndefined();
    });
  }
});
