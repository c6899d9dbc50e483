/**
 * Secrets for the local farm. On AWS, stages' secrets come only from Secrets Manager or
 * SSM; with no AWS account the local farm reads the same references from a JSON file
 * (`.buildfarm/secrets.json`, mode 0600 advised): `{ "ssm:/ci/npm-token": "value", ... }`,
 * keyed by the reference exactly as the pipeline file writes it.
 */
import { readFile } from 'node:fs/promises';
import type { SecretRef } from '../../domain/pipeline/types.js';
import type { SecretsProvider } from '../../ports/secrets.js';
import { SecretUnavailable } from '../../runner/errors.js';

export class LocalSecretsFile implements SecretsProvider {
  constructor(private readonly file: string) {}

  async resolve(ref: SecretRef): Promise<string> {
    let values: Record<string, unknown>;
    try {
      values = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SecretUnavailable(
        code === 'ENOENT'
          ? `secret ${ref.raw}: the local farm has no ${this.file} (a JSON object of reference to value)`
          : `secret ${ref.raw}: cannot read ${this.file} (${code ?? (error as Error).message})`,
      );
    }
    const value = values[ref.raw];
    if (typeof value !== 'string') throw new SecretUnavailable(`secret ${ref.raw}: not in ${this.file}`);
    return value;
  }
}
