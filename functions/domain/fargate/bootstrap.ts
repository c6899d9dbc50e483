/**
 * The fetch container's first step: download the bundled helper from the artifact
 * bucket with the task role's credentials, then run it.
 *
 * Why this way: the helpers run on the stock Node.js image, so there is no image to
 * build, push or scan, and the helper always matches the deployed code (the
 * fargate-prepare function uploads its own copy under a content-hashed key). The
 * stock image has no AWS CLI or SDK, so this script signs one S3 GetObject with
 * Signature Version 4 itself, using Node's crypto and the credentials the ECS agent
 * serves to the task (no expiring presigned URL in the overrides, nothing public).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
 *
 * The publish container then runs the same file from the shared helper volume, so
 * only one download happens per task. The script is plain CommonJS so it runs under
 * `node -e` unchanged; the tests execute this exact string against a local server
 * and check the signature against the AWS SDK's signer.
 *
 * Environment: BUILDFARM_BUCKET, BUILDFARM_REGION, BUILDFARM_HELPER_KEY,
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (set by ECS) or _FULL_URI, and, for tests
 * only, BUILDFARM_S3_CONNECT (where to connect; the signed host stays the real one)
 * and BUILDFARM_HELPER_FILE (where to write the helper), BUILDFARM_S3_IDLE_MS (the idle timeout).
 *
 * A connection that goes silent (no byte for 60 s, the runner's S3 socket timeout:
 * adapters/aws/s3-http-timeouts.ts) is dropped and the download starts again: without it a stalled
 * connection held the fetch container until the task's timeout. Starting again is right here: the
 * helper is small, and it is written only once it arrived whole.
 */
import { ENV, HELPER_FILE } from './layout.js';

export const HELPER_BOOTSTRAP_JS = `
const crypto = require('node:crypto');
const fs = require('node:fs');
const env = process.env;
const helperFile = env.BUILDFARM_HELPER_FILE || ${JSON.stringify(HELPER_FILE)};
const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const encodeKey = (key) => key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())).join('/');
async function credentials() {
  const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI || 'http://169.254.170.2' + env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const response = await fetch(url);
  if (!response.ok) throw new Error('task credentials: HTTP ' + response.status);
  return response.json();
}
function get(target, options) {
  const transport = require(target.protocol === 'https:' ? 'node:https' : 'node:http');
  return new Promise((resolve, reject) => {
    const request = transport.request({ hostname: target.hostname, port: target.port || undefined, path: options.path, method: 'GET', headers: options.headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    const idleMs = Number(env.BUILDFARM_S3_IDLE_MS) || 60000;
    request.setTimeout(idleMs, () => request.destroy(new Error('no byte from S3 for ' + idleMs + ' ms')));
    request.end();
  });
}
async function download() {
  const bucket = env.BUILDFARM_BUCKET, region = env.BUILDFARM_REGION, key = env.BUILDFARM_HELPER_KEY;
  if (!bucket || !region || !key) throw new Error('BUILDFARM_BUCKET, BUILDFARM_REGION and BUILDFARM_HELPER_KEY must be set');
  const creds = await credentials();
  const host = bucket + '.s3.' + region + '.amazonaws.com';
  const path = '/' + encodeKey(key);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\\.\\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': amzDate };
  if (creds.Token) headers['x-amz-security-token'] = creds.Token;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonical = ['GET', path, '', ...names.map((n) => n + ':' + headers[n]), '', signedHeaders, 'UNSIGNED-PAYLOAD'].join('\\n');
  const scope = day + '/' + region + '/s3/aws4_request';
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\\n');
  const signingKey = hmac(hmac(hmac(hmac('AWS4' + creds.SecretAccessKey, day), region), 's3'), 'aws4_request');
  const signature = crypto.createHmac('sha256', signingKey).update(toSign).digest('hex');
  headers.authorization = 'AWS4-HMAC-SHA256 Credential=' + creds.AccessKeyId + '/' + scope + ', SignedHeaders=' + signedHeaders + ', Signature=' + signature;
  const target = new URL(env.BUILDFARM_S3_CONNECT || 'https://' + host);
  const response = await get(target, { path, headers });
  if (response.status !== 200) throw new Error('helper download s3://' + bucket + '/' + key + ': HTTP ' + response.status + ' ' + response.body.toString('utf8').slice(0, 500));
  return response.body;
}
(async () => {
  let lastError;
  let attempts = 0;
  for (let attempt = 1; attempt <= 4; attempt++) {
    attempts = attempt;
    try {
      fs.writeFileSync(helperFile, await download());
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt * Math.random() + 100));
    }
  }
  if (lastError) {
    console.error('buildfarm bootstrap failed:', lastError);
    process.exit(70);
  }
  // Each attempt was a GetObject S3 bills: the helper counts them with its own requests.
  process.env.${ENV.helperDownloads} = String(attempts);
  require(helperFile);
})();
`;
