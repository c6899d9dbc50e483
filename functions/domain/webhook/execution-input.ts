import type { BuildRequest } from '../build-request.js';

/**
 * The input of a build's state machine execution: the contract between
 * start-build and the ASL's first state. Small (well under the 256 KiB
 * state payload limit) because a BuildRequest is.
 */
export interface BuildExecutionInput {
  /** The execution name: also the build's id in S3 keys and reports. */
  buildId: string;
  request: BuildRequest;
}

/** A running build, as the superseded-build check sees it. */
export interface RunningBuild {
  executionArn: string;
  input: BuildExecutionInput;
}
