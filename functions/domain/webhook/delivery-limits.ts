/**
 * Which webhook deliveries reach the webhook function on AWS. GitHub sends payloads up to 25 MB
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap), but two limits
 * stand before the handler:
 * - the HTTP API takes request payloads up to 10 MB and answers 413 above
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
 * - Lambda takes a synchronous invocation request of at most 6 MB (6,291,456 bytes), the whole
 *   event: body, headers and the request context (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 *   Above it the invoke fails and the HTTP API answers 500 Internal Server Error.
 * Neither answer reaches the farm's code, so no build starts and no commit status can say why
 * (the body holding the commit never arrived). GitHub's delivery log shows the answer; what to
 * do about it is in docs/webhook.md. What does arrive, up to about 6 MB, builds: normalisation
 * bounds the build request whatever the payload holds (request-size.ts).
 */

export const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;
export const HTTP_API_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

export type DeliveryPath = 'handled' | 'lambda-refused-500' | 'api-refused-413';

/**
 * What happens to a delivery: `bodyInEventBytes` is the body as the event carries it (a JSON
 * string, so quotes and backslashes escaped; base64 when `base64`), `envelopeBytes` the rest of
 * the event (headers, request context).
 */
export function deliveryPath(bodyInEventBytes: number, envelopeBytes: number, base64 = false): DeliveryPath {
  const bodyBytes = base64 ? Math.floor((bodyInEventBytes * 3) / 4) : bodyInEventBytes;
  if (bodyBytes > HTTP_API_MAX_PAYLOAD_BYTES) return 'api-refused-413';
  return bodyInEventBytes + envelopeBytes > LAMBDA_SYNC_PAYLOAD_BYTES ? 'lambda-refused-500' : 'handled';
}
