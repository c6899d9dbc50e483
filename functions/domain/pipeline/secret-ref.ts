import type { SecretRef } from './types.js';

/**
 * Secret references in `secrets:`. Only the reference travels through the
 * farm; the runner resolves it at the last moment.
 *
 * - `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME` (optionally `#jsonKey`)
 * - `secretsmanager:NAME` (optionally `#jsonKey`)
 * - `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`
 * - `ssm:/param/name` (or `ssm:name`)
 */
export type SecretRefResult = { ok: true; ref: SecretRef } | { ok: false; message: string };

export const SECRET_REF_HELP =
  'a reference such as secretsmanager:NAME, secretsmanager:NAME#jsonKey, ssm:/param/name, ' +
  'arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME or arn:aws:ssm:REGION:ACCOUNT:parameter/NAME';

// Partitions: aws, aws-cn, aws-us-gov, ... ARN format:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
const SECRETS_MANAGER_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SSM_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]+$/;
// Secret names: letters, digits and /_+=.@- up to 512 characters.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
// Parameter names: letters, digits and _.-/ up to 2048 characters.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,2048}$/;
const JSON_KEY = /^[^#\s]{1,256}$/;

export function parseSecretRef(raw: string): SecretRefResult {
  const text = raw.trim();
  const fail = (why: string): SecretRefResult => ({ ok: false, message: `${JSON.stringify(raw)} ${why}; expected ${SECRET_REF_HELP}` });

  if (text.startsWith('arn:') && text.split(':')[2] === 'ssm') {
    return SSM_ARN.test(text) ? { ok: true, ref: { source: 'ssm', id: text, raw } } : fail('is not a valid SSM parameter ARN');
  }
  if (text.startsWith('ssm:')) {
    const name = text.slice('ssm:'.length);
    return PARAMETER_NAME.test(name) ? { ok: true, ref: { source: 'ssm', id: name, raw } } : fail('is not a valid SSM parameter name');
  }

  const hash = text.indexOf('#');
  const body = hash === -1 ? text : text.slice(0, hash);
  const jsonKey = hash === -1 ? undefined : text.slice(hash + 1);
  if (jsonKey !== undefined && !JSON_KEY.test(jsonKey)) return fail('has an empty or malformed #jsonKey');
  const withKey = (id: string): SecretRefResult => ({
    ok: true,
    ref: jsonKey === undefined ? { source: 'secretsmanager', id, raw } : { source: 'secretsmanager', id, jsonKey, raw },
  });

  if (body.startsWith('arn:') && body.split(':')[2] === 'secretsmanager') {
    return SECRETS_MANAGER_ARN.test(body) ? withKey(body) : fail('is not a valid Secrets Manager secret ARN');
  }
  if (body.startsWith('secretsmanager:')) {
    const name = body.slice('secretsmanager:'.length);
    return SECRET_NAME.test(name) ? withKey(name) : fail('is not a valid Secrets Manager secret name');
  }
  return fail('is not a secret reference');
}
