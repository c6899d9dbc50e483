/**
 * The Step Functions console page of one execution: the `target_url` of every
 * commit status and the link in the report. The console takes the execution
 * ARN as it is, after the fragment's `details/` (the form the console itself
 * links to; see AWS-FACTS.md).
 */
export function executionConsoleUrl(region: string, executionArn: string): string {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/states/home?region=${r}#/v2/executions/details/${executionArn}`;
}
