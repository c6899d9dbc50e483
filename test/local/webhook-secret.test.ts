import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveWebhookSecret } from '../../functions/local/webhook-secret.js';

describe('Function: resolveWebhookSecret', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'secret-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('takes GITHUB_WEBHOOK_SECRET when it is set and writes nothing', async () => {
    // Act
    const secret = await resolveWebhookSecret({ GITHUB_WEBHOOK_SECRET: 'from-env' }, directory);
    // Assess
    expect(secret).toEqual({ secret: 'from-env', source: 'environment' });
    await expect(stat(join(directory, 'webhook-secret'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('generates a secret once, readable by the user only, and keeps it for the next start', async () => {
    // Act
    const first = await resolveWebhookSecret({}, directory);
    const second = await resolveWebhookSecret({ GITHUB_WEBHOOK_SECRET: '' }, directory);
    // Assess
    expect(first.source).toBe('generated');
    expect(first.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toEqual({ secret: first.secret, source: 'stored', file: first.file });
    expect((await stat(first.file!)).mode & 0o777).toBe(0o600);
  });
});
