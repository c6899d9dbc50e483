/**
 * The secret GitHub signs deliveries with. From GITHUB_WEBHOOK_SECRET when it
 * is set; otherwise generated once and kept in .buildfarm/webhook-secret
 * (readable by the user only), so a webhook configured on GitHub keeps
 * working after a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface WebhookSecret {
  secret: string;
  source: 'environment' | 'generated' | 'stored';
  /** Where a generated secret is kept. */
  file?: string;
}

export async function resolveWebhookSecret(env: NodeJS.ProcessEnv, dataDirectory: string): Promise<WebhookSecret> {
  const fromEnv = env.GITHUB_WEBHOOK_SECRET;
  if (fromEnv !== undefined && fromEnv.length > 0) return { secret: fromEnv, source: 'environment' };
  const file = join(dataDirectory, 'webhook-secret');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length > 0) return { secret: stored, source: 'stored', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // 32 random bytes: as strong as the HMAC-SHA256 key can use.
  const secret = randomBytes(32).toString('hex');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return { secret, source: 'generated', file };
}
