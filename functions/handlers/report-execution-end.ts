/**
 * The report path for an execution that ended without running its Report state (see
 * domain/report/execution-end.ts): the EventBridge rule in template.yaml invokes the report
 * function with the "Step Functions Execution Status Change" event, and this builds the Report
 * task's input from the event and from what is in S3, then reports as the Report state would.
 *
 * Idempotent: a report.json already stored means the Report state got that far (it retries its
 * own publishing), so the end is not reported twice.
 */
import type { BuildReport } from '../domain/report/types.js';
import { executionEndError, type ExecutionStatusChangeEvent } from '../domain/report/execution-end.js';
import { planKey, reportKey } from '../domain/storage-keys.js';
import type { BuildExecutionInput, ReportTaskInput, ReportTaskOutput } from './build-state-machine.js';
import { reportTask, type ReportDeps } from './report.js';
import { readJson } from './stage-records.js';
import { settleSpend } from './record-spend.js';
import { S3SpendLedger } from '../adapters/s3-spend-ledger.js';
import type { Plan } from '../domain/plan/types.js';

/** The event cannot be reported: its input is missing (over EventBridge's size) or not a build's. */
export class UnreportableExecution extends Error {
  override readonly name = 'UnreportableExecution';
}

function executionInput(event: ExecutionStatusChangeEvent): BuildExecutionInput {
  const { detail } = event;
  if (detail.input === null || detail.input === undefined) {
    throw new UnreportableExecution(`execution ${detail.executionArn} ended ${detail.status}, but the event carries no input (inputDetails.included: ${detail.inputDetails?.included})`);
  }
  const input = JSON.parse(detail.input) as Partial<BuildExecutionInput>;
  if (typeof input.buildId !== 'string' || typeof input.request !== 'object' || input.request === null) {
    throw new UnreportableExecution(`execution ${detail.executionArn}: its input is not a build (no buildId or request)`);
  }
  return input as BuildExecutionInput;
}

export async function reportExecutionEnd(event: ExecutionStatusChangeEvent, deps: ReportDeps): Promise<ReportTaskOutput> {
  const { buildId, request } = executionInput(event);
  const key = reportKey(buildId);
  const existing = await readJson<BuildReport>(deps.store, key);
  if (existing) {
    // Report published but may have died before settling the budget: settle again (both steps are
    // idempotent), or the reservation would hold money until it expires.
    const plan = await readJson<Pick<Plan, 'budgetReservation'>>(deps.store, planKey(buildId));
    await settleSpend(existing, plan?.budgetReservation, deps.spend ?? new S3SpendLedger(deps.store), deps.logger);
    return { status: existing.status, totalCostUsd: existing.totalCostUsd, reportKey: key };
  }
  // The plan, when Plan stored one: the report then lists every stage with what it recorded.
  const planned = (await deps.store.getText(planKey(buildId))) !== undefined;
  const input: ReportTaskInput = {
    buildId,
    startedAt: new Date(event.detail.startDate).toISOString(),
    executionArn: event.detail.executionArn,
    state: {
      request,
      ...(planned ? { plan: { planKey: planKey(buildId), build: true, refused: false, secretsWithheld: request.fromFork, predictedCostUsd: 0, reason: '', failFast: false, maxStageConcurrency: 0, batches: [] } } : {}),
      error: executionEndError(event.detail),
    },
  };
  return reportTask(input, deps);
}
