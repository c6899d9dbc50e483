/**
 * Deploys a template into a running moto_server's CloudFormation (boto3, test/support/twin/
 * moto-deploy-stack.py) and returns what moto created.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { FilteredTemplate } from './moto-stack-template.js';

export interface MotoStack {
  status: string;
  reason: string;
  events: { logicalId: string; status: string; reason: string }[];
  resources: { logicalId: string; physicalId: string; type: string; status: string }[];
  outputs: Record<string, string>;
}

export function deployToMoto(endpoint: string, stackName: string, filtered: FilteredTemplate, parameters: Record<string, string>): MotoStack {
  const run = spawnSync('python3', [join(import.meta.dirname, 'moto-deploy-stack.py')], {
    input: JSON.stringify({
      endpoint,
      stackName,
      template: filtered.template,
      parameters,
      packageBucket: filtered.packageBucket,
      packageKeys: filtered.packageKeys,
    }),
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`deploying ${stackName} to moto failed:\n${run.stderr.slice(-4000)}`);
  return JSON.parse(run.stdout);
}

/** Dummy credentials and the endpoint, for the @aws-sdk clients. */
export function motoClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}
