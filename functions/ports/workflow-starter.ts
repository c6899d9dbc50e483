export interface StartedWorkflow {
  executionArn: string;
  /** True when an execution with that name already existed: a duplicate, not a new build. */
  alreadyStarted: boolean;
}

/** Starts a build's state machine execution: Step Functions on AWS, the local interpreter locally. */
export interface WorkflowStarter {
  start(name: string, input: unknown): Promise<StartedWorkflow>;
  /** Stops a running execution (superseded builds). */
  stop(executionArn: string, reason: string): Promise<void>;
}
