import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/**
 * Makes a mocked SFNClient enforce what Step Functions enforces on names:
 * the same name with the same input while running returns the same
 * execution; the same name otherwise is `ExecutionAlreadyExists`.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export function enforceUniqueNames(sfn: AwsClientStub<SFNClient>): Map<string, string> {
  const executions = new Map<string, string>();
  sfn.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => {
    const name = input.name as string;
    const arn = `${input.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = executions.get(name);
    if (existing !== undefined && existing !== input.input) {
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${arn}'`, $metadata: {} });
    }
    executions.set(name, input.input as string);
    return { executionArn: arn, startDate: new Date(0) };
  });
  return executions;
}
