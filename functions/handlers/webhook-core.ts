import type { BuildRequest } from '../domain/build-request.js';
import type { Allowlist } from '../domain/webhook/allowlist.js';
import { MalformedPayload } from '../domain/webhook/errors.js';
import { normaliseDelivery } from '../domain/webhook/normalise.js';
import { verifySignature } from '../domain/webhook/signature.js';
import type { MessageAttributes, Notifier } from '../ports/notifier.js';

/**
 * The webhook's logic with no AWS in it: the Lambda handler (webhook.ts)
 * wraps it with middy and Powertools, and the local farm serves it over
 * plain HTTP. The order of checks is deliberate:
 * 1. size, before hashing anything big;
 * 2. signature over the raw bytes, before parsing anything an attacker sent;
 * 3. headers and JSON;
 * 4. ping, then normalise, then publish.
 */

/** GitHub caps payloads at 25 MB; anything larger did not come from GitHub. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;
/** GitHub's delivery ids are GUIDs; anything very long is not one. */
const MAX_DELIVERY_ID_LENGTH = 128;

export interface WebhookRequest {
  /**
   * Header names in any case (HTTP API and Node lower-case them; this does not
   * rely on it). Node's `IncomingMessage.headers` fits as it is; a header sent
   * several times (an array) is ambiguous and counts as absent.
   */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body exactly as received: the signature covers these bytes. */
  body: Buffer | string;
}

/** What the core needs to log; Powertools' Logger fits, and so does `console`. */
export interface WebhookLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  /** Keys added to every later log line of this invocation (Powertools Logger). */
  appendKeys?(keys: Record<string, unknown>): void;
}

export interface WebhookDeps {
  secret: string;
  notifier: Notifier;
  allowlist?: Allowlist;
  /** Build tag pushes too (off by default; see normalise.ts). */
  buildTags?: boolean;
  now: () => Date;
  logger?: WebhookLogger;
}

export type WebhookOutcome =
  | 'accepted'
  | 'ping'
  | 'skipped'
  | 'unauthorized'
  | 'malformed'
  | 'too-large'
  | 'publish-failed';

export interface WebhookResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** JSON text. */
  body: string;
  /** For metrics and tests; not sent to GitHub. */
  outcome: WebhookOutcome;
  deliveryId?: string;
  /** What was published, when something was. */
  request?: BuildRequest;
}

export async function handleWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  const log = deps.logger;
  const headers = lowerCaseKeys(request.headers);
  const deliveryId = headers['x-github-delivery'];
  const event = headers['x-github-event'];
  if (deliveryId !== undefined) log?.appendKeys?.({ deliveryId: deliveryId.slice(0, MAX_DELIVERY_ID_LENGTH), event });

  if (Buffer.byteLength(request.body) > MAX_BODY_BYTES) {
    log?.warn('webhook body too large', { bytes: Buffer.byteLength(request.body) });
    return respond(413, 'too-large', { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
  }
  if (!verifySignature(deps.secret, request.body, headers['x-hub-signature-256'])) {
    log?.warn('webhook signature missing or wrong');
    return respond(401, 'unauthorized', {
      error: headers['x-hub-signature-256'] === undefined ? 'X-Hub-Signature-256 is missing' : 'X-Hub-Signature-256 does not match',
    });
  }
  if (deliveryId === undefined || deliveryId.length === 0 || deliveryId.length > MAX_DELIVERY_ID_LENGTH) {
    return respond(400, 'malformed', { error: 'X-GitHub-Delivery is missing or too long' });
  }
  if (event === undefined || event.length === 0) {
    return respond(400, 'malformed', { error: 'X-GitHub-Event is missing' }, deliveryId);
  }
  let payload: unknown;
  try {
    payload = parseBody(request.body, headers['content-type']);
  } catch (error) {
    return respond(400, 'malformed', { error: errorMessage(error) }, deliveryId);
  }
  if (event === 'ping') {
    log?.info('webhook ping');
    return respond(200, 'ping', { status: 'pong', deliveryId }, deliveryId);
  }

  let decision;
  try {
    decision = normaliseDelivery({ event, deliveryId, payload, receivedAt: deps.now(), allowlist: deps.allowlist, buildTags: deps.buildTags });
  } catch (error) {
    if (error instanceof MalformedPayload) return respond(400, 'malformed', { error: error.message }, deliveryId);
    throw error;
  }
  if (!decision.build) {
    log?.info('webhook delivery not built', { reason: decision.reason });
    return respond(202, 'skipped', { status: 'skipped', deliveryId, reason: decision.reason }, deliveryId);
  }

  const buildRequest = decision.request;
  log?.appendKeys?.({ repository: buildRequest.repository });
  try {
    const { messageId } = await deps.notifier.publish(JSON.stringify(buildRequest), buildRequestAttributes(buildRequest));
    log?.info('build request published', { messageId, ref: buildRequest.ref, sha: buildRequest.sha });
    return { ...respond(202, 'accepted', { status: 'accepted', deliveryId, messageId }, deliveryId), request: buildRequest };
  } catch (error) {
    // A 5xx makes GitHub show the delivery as failed, so it can be redelivered.
    log?.warn('publishing the build request failed', { error: errorMessage(error) });
    return respond(503, 'publish-failed', { error: 'the build request could not be queued; redeliver later' }, deliveryId);
  }
}

/** The SNS message attributes subscribers filter on. */
export function buildRequestAttributes(request: BuildRequest): MessageAttributes {
  return { repository: request.repository, event: request.event, ref: request.ref };
}

/**
 * GitHub sends either `application/json` or, when the hook is configured so,
 * `application/x-www-form-urlencoded` with the JSON in the `payload` field.
 */
function parseBody(body: Buffer | string, contentType: string | undefined): unknown {
  const textBody = typeof body === 'string' ? body : body.toString('utf8');
  let json = textBody;
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const field = new URLSearchParams(textBody).get('payload');
    if (field === null) throw new MalformedPayload('the form body has no payload field');
    json = field;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    throw new MalformedPayload('the body is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedPayload('the body is not a JSON object');
  }
  return payload;
}

function respond(statusCode: number, outcome: WebhookOutcome, body: Record<string, unknown>, deliveryId?: string): WebhookResponse {
  const response: WebhookResponse = {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    outcome,
  };
  if (deliveryId !== undefined) response.deliveryId = deliveryId;
  return response;
}

function lowerCaseKeys(headers: WebhookRequest['headers']): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = typeof value === 'string' ? value : undefined;
  return result;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
