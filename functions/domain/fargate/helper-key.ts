import { createHash } from 'node:crypto';

/** Where a helper bundle lives in the bucket: its content hash names it, so a new deployment never reuses an old copy. */
export function helperBundleKey(code: Uint8Array): string {
  return `helpers/fargate-helper-${createHash('sha256').update(code).digest('hex').slice(0, 20)}.cjs`;
}
