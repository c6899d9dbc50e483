/**
 * The farm's own secrets (the webhook secret, the GitHub token) are never a stage's, even
 * when a pipeline file names them. docs/deploy.md keeps them outside `buildfarm/*`, and
 * the StageCredentials role denies them explicitly; this check is the third fence, on the
 * reference before the read and on the ARN Secrets Manager answers with after it.
 *
 * Secrets Manager ARNs end in `-` and six random characters; a template parameter may
 * hold the full ARN or the ARN without that suffix (a partial ARN):
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen
 */
import type { SecretRef } from '../pipeline/types.js';

const SUFFIX = /-[A-Za-z0-9]{6}$/;

function secretNameOf(arn: string): string | undefined {
  const at = arn.indexOf(':secret:');
  return at === -1 ? undefined : arn.slice(at + ':secret:'.length);
}

/** Whether `arn` (a full ARN, as GetSecretValue returns it) is one of the system secrets. */
export function isSystemSecretArn(arn: string, systemArns: readonly string[]): boolean {
  return systemArns.some((system) => system !== '' && (arn === system || (arn.startsWith(`${system}-`) && SUFFIX.test(arn) && arn.length === system.length + 7)));
}

/** Whether a declared reference names a system secret, by ARN or by name, before anything is read. */
export function namesSystemSecret(ref: SecretRef, systemArns: readonly string[]): boolean {
  if (ref.source !== 'secretsmanager') return false;
  const id = ref.id;
  if (id.startsWith('arn:')) return isSystemSecretArn(id, systemArns) || systemArns.some((system) => system !== '' && system.startsWith(`${id}-`) && system.length === id.length + 7);
  return systemArns.some((system) => {
    const name = secretNameOf(system);
    return name !== undefined && (name === id || name.replace(SUFFIX, '') === id);
  });
}
