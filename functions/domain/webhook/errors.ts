/**
 * Errors of the webhook path. Names are literal because Step Functions and
 * the handlers route on them (and bundles keep names).
 */

/** The delivery is signed correctly but its body is not a payload we can read. */
export class MalformedPayload extends Error {
  override readonly name = 'MalformedPayload';
}

/** An allowlist entry is neither `owner/*` nor `owner/name`. */
export class InvalidAllowlist extends Error {
  override readonly name = 'InvalidAllowlist';
}

/** Publishing a build request to the topic failed: the delivery must show as failed. */
export class PublishFailed extends Error {
  override readonly name = 'PublishFailed';
}

/** Starting the build's execution failed for a reason other than a duplicate. */
export class WorkflowStartFailed extends Error {
  override readonly name = 'WorkflowStartFailed';
}
