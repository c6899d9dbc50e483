/** The input a build's execution starts with in the local farm, checked as Step Functions would receive it. */
import type { BuildExecutionInput } from './build-record.js';

export class InvalidExecutionInput extends Error {
  override readonly name = 'InvalidExecutionInput';
}

export function parseExecutionInput(input: unknown): BuildExecutionInput {
  const candidate = input as Partial<BuildExecutionInput> | null;
  if (typeof candidate?.buildId !== 'string' || typeof candidate.request?.repository !== 'string' || typeof candidate.request.sha !== 'string') {
    throw new InvalidExecutionInput('the execution input must be { buildId, request } with a BuildRequest');
  }
  return candidate as BuildExecutionInput;
}
