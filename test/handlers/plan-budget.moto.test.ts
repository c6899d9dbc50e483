/**
 * Budgets on the AWS path: the Report handler records each build's cost in the spend ledger
 * and the Plan handler sums it from a listing, both through the real S3 adapter against
 * moto_server (an S3 we did not write). A build whose prediction would take the spend past a
 * budget is refused: no stage starts, its report says `refused` with the budget's figures, and
 * its commit status says so too. An admitted build holds its prediction (a reservation) until
 * its Report, on every path to it (the Report state, the execution-end rule of an aborted build),
 * and of two builds planned at the same moment where only one fits, only one is admitted.
 * moto checks request shapes, not IAM (the grants are in test/aws/iam/control-plane-roles.test.ts).
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { S3SpendLedger } from '../../functions/adapters/s3-spend-ledger.js';
import { s3ObjectRemover } from '../../functions/adapters/aws/s3-object-remover.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { farmPolicyFromEnvironment } from '../../functions/handlers/farm-policy-environment.js';
import { planTask } from '../../functions/handlers/plan.js';
import { recordSpend } from '../../functions/handlers/record-spend.js';
import { reportTask, type ReportDeps } from '../../functions/handlers/report.js';
import { reportExecutionEnd } from '../../functions/handlers/report-execution-end.js';
import { RESERVATIONS_PREFIX } from '../../functions/domain/budget/reservations.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import type { PlanTaskOutput } from '../../functions/handlers/build-state-machine.js';
import type { CommitStatus, CommitStatusPort } from '../../functions/ports/commit-status.js';
import { REQUEST, tarball } from '../statemachine/support/farm.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { motoUnavailableReason, startMotoServer, type MotoServer } from '../support/twin/moto-server.js';

const unavailable = motoUnavailableReason();
if (unavailable) console.warn(`SKIPPED: budgets on moto_server: ${unavailable}`);

/** One 1 vCPU / 2 GB Fargate stage of an hour (its timeout): predicted $0.049644 ((0.04048 + 2 x 0.004445) x 3620 s / 3600, the 20 s image pull included). */
const PIPELINE = 'version: 1\non:\n  push: {}\nstages:\n  test:\n    commands: [make test]\n    runner: fargate\n    timeout: 1h\n';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b';
const NOW = new Date('2026-11-30T15:00:00Z');

function spentReport(buildId: string, repository: string, finishedAt: string, totalCostUsd: number): BuildReport {
  return { buildId, repository, finishedAt, totalCostUsd } as BuildReport;
}

describe.skipIf(unavailable !== undefined)('Budgets on moto_server (Plan and Report handlers)', () => {
  let moto: MotoServer | undefined;
  let store: S3ArtifactStore;
  /** The ledger as the Plan and Report functions make it on AWS: able to delete reservations. */
  let ledger: S3SpendLedger;

  beforeAll(async () => {
    moto = await startMotoServer();
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'farm' }));
    store = new S3ArtifactStore(s3, 'farm');
    ledger = new S3SpendLedger(store, s3ObjectRemover(s3, 'farm'));
    // Earlier builds this month, as the Report handler records them.
    await recordSpend(spentReport('gh-1', 'octo/app', '2026-11-30T09:00:00Z', 0.97), ledger);
    await recordSpend(spentReport('gh-2', 'octo/other', '2026-11-30T10:00:00Z', 0.5), ledger);
    await recordSpend(spentReport('gh-3', 'octo/app', '2026-11-03T10:00:00Z', 3), ledger);
    await recordSpend(spentReport('gh-4', 'octo/app', '2026-10-31T23:59:00Z', 50), ledger); // last month: not counted
  }, 90_000);

  afterAll(async () => {
    await moto?.stop();
  });

  /** The test's clock: NOW, moved on by the budget check's waits (no real sleeping). */
  let clockMs = NOW.getTime();
  const fakeClock = { now: () => new Date(clockMs), sleep: async (ms: number) => void (clockMs += ms) };
  /** NOW plus real elapsed time, real waits: for builds planned truly at the same time. */
  const realStart = Date.now();
  const realClock = { now: () => new Date(NOW.getTime() + (Date.now() - realStart)), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

  const planWith = (env: Record<string, string>, buildId: string, clock: { now(): Date; sleep(ms: number): Promise<void> } = fakeClock) =>
    planTask(
      { buildId, request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN },
      {
        store,
        source: { snapshot: () => tarball({ '.buildfarm.yml': PIPELINE }) },
        config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
        prices: DEFAULT_PRICE_BOOK,
        policy: farmPolicyFromEnvironment(env),
        spend: ledger,
        ...clock,
      },
    );
  const reportDeps = (): ReportDeps => ({ store, notifier: new RecordingNotifier(), costs: pricedCostModel(regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1')), now: () => NOW, region: 'us-east-1', spend: ledger });
  const reservationKeys = async () => {
    const keys: string[] = [];
    for await (const object of store.list(RESERVATIONS_PREFIX)) keys.push(object.key);
    return keys;
  };
  const reservationOf = async (buildId: string) => JSON.parse((await store.getText(`builds/${buildId}/plan.json`))!) as Plan;

  it('refuses a build that would take the repository\'s daily spend past its budget, and reports it refused with a commit status', async () => {
    // Act: $0.97 spent today by octo/app + $0.0496 predicted > $1.
    const output = await planWith({ BUILDFARM_REPO_DAILY_BUDGETS_USD: 'octo/app=1' }, 'b-refused');

    // Assess: refused, no wave
    expect(output).toMatchObject({ build: false, refused: true, batches: [] });
    expect(output.reason).toBe(
      'predicted $0.0496 would take spend past the daily budget of octo/app $1.00: $0.9700 spent today (UTC) (BUILDFARM_REPO_DAILY_BUDGETS_USD / RepoDailyBudgetsUSD)',
    );

    // Act: the state machine goes to Report with that output
    const posted: CommitStatus[] = [];
    const statuses: CommitStatusPort = { post: async (_r, _s, status) => void posted.push(status) };
    const result = await reportTask(
      { buildId: 'b-refused', startedAt: NOW.toISOString(), executionArn: EXECUTION_ARN, state: { request: REQUEST, plan: output } },
      { store, notifier: new RecordingNotifier(), costs: pricedCostModel(regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1')), now: () => NOW, region: 'us-east-1', statuses },
    );

    // Assess
    expect(result.status).toBe('refused');
    const report = JSON.parse((await store.getText(result.reportKey))!) as BuildReport;
    expect(report.reason).toContain('the daily budget of octo/app $1.00');
    expect(posted.map((s) => s.state)).toContain('error');
    expect(posted.find((s) => s.state === 'error')!.description).toContain('daily budget of octo/app');
  });

  it('admits the same build under the farm-wide budgets, which count every repository this month', async () => {
    // Farm today: $1.47; farm this month: $4.47 (last month's $50 is not counted).
    const admitted = await planWith({ BUILDFARM_DAILY_BUDGET_USD: '1.52', BUILDFARM_MONTHLY_BUDGET_USD: '4.52' }, 'b-admitted');
    expect(admitted).toMatchObject({ build: true, refused: false });
    // b-admitted is still running: its $0.0496 counts beside the $4.47 reported.
    const refused = await planWith({ BUILDFARM_MONTHLY_BUDGET_USD: '4.55' }, 'b-monthly');
    expect(refused.reason).toBe(
      "predicted $0.0496 would take spend past the farm's monthly budget $4.55: $4.52 spent this month (UTC), $0.0496 of it held by builds still running (BUILDFARM_MONTHLY_BUDGET_USD / MonthlyBudgetUSD)",
    );
    // The refused build let its reservation go; the admitted one's is named in its plan.
    const { budgetReservation } = await reservationOf('b-admitted');
    expect(await reservationKeys()).toEqual([budgetReservation]);
    expect(budgetReservation).toMatch(/^spend\/reserved\/octo\/app\/49644-\d{13}-\d{13}-b-admitted$/);
  });

  it('of two builds planned at the same moment where only one fits, admits exactly one and the other lets its reservation go', async () => {
    // $4.47 reported + $0.0496 held by b-admitted + one more $0.0496 = $4.5692 <= $4.60 < two more ($4.6188).
    const env = { BUILDFARM_MONTHLY_BUDGET_USD: '4.60' };
    const outputs = await Promise.all([planWith(env, 'b-race-1', realClock), planWith(env, 'b-race-2', realClock)]);
    // Never both (the rule's guarantee); exactly one as long as no reservation PUT took over 1 s
    // (a late first one makes both refuse, the safe side: admission-order.ts).
    expect(outputs.filter((o) => o.build).length).toBeLessThanOrEqual(1);
    expect(outputs.filter((o) => o.build)).toHaveLength(1);
    const loser = outputs.find((o) => !o.build)!;
    expect(loser.reason).toContain("$4.57 spent this month (UTC), $0.0993 of it held by builds still running");
    const winner = outputs.indexOf(outputs.find((o) => o.build)!) === 0 ? 'b-race-1' : 'b-race-2';
    const keys = await reservationKeys();
    expect(keys).toHaveLength(2);
    expect(keys).toContain((await reservationOf(winner)).budgetReservation);
    const loserId = winner === 'b-race-1' ? 'b-race-2' : 'b-race-1';
    expect((await reservationOf(loserId)).budgetReservation).toBeUndefined();
  }, 30_000);

  it('the Report replaces a reservation by the actual cost, on the Report state\'s path and on the execution-end rule\'s', async () => {
    const admitted = (await reservationOf('b-admitted')).budgetReservation!;
    const planOutput: PlanTaskOutput = { planKey: 'builds/b-admitted/plan.json', build: true, refused: false, secretsWithheld: false, predictedCostUsd: 0.0496, reason: '', failFast: false, maxStageConcurrency: 4, batches: [{ index: 0, stageCount: 1 }] };
    // Act: the Report state after a failure (no stage recorded anything).
    const report = await reportTask(
      { buildId: 'b-admitted', startedAt: NOW.toISOString(), executionArn: EXECUTION_ARN, state: { request: REQUEST, plan: planOutput, error: { Error: 'States.TaskFailed', Cause: 'the stage failed' } } },
      reportDeps(),
    );
    expect(report.totalCostUsd).toBeGreaterThan(0);
    const keys = await reservationKeys();
    expect(keys).not.toContain(admitted);
    const entries = await new S3SpendLedger(store).entriesOf('2026-11');
    expect(entries).toContainEqual(expect.objectContaining({ buildId: 'b-admitted', costUsd: Math.round(report.totalCostUsd * 1e6) / 1e6 }));

    // Act: the race's winner is stopped (StopExecution): no Report state, the EventBridge rule reports it.
    const [winnerKey] = keys;
    const winnerId = winnerKey!.slice(winnerKey!.lastIndexOf('-b-race-') + 1);
    const aborted = await reportExecutionEnd(
      {
        'detail-type': 'Step Functions Execution Status Change',
        source: 'aws.states',
        detail: {
          executionArn: `${EXECUTION_ARN}-${winnerId}`, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:BuildFarm', name: winnerId, status: 'ABORTED',
          startDate: NOW.getTime(), stopDate: NOW.getTime() + 1000, input: JSON.stringify({ buildId: winnerId, request: REQUEST }), inputDetails: { included: true }, error: null, cause: null,
        },
      },
      reportDeps(),
    );
    expect(aborted.status).toBe('cancelled');
    expect(await reservationKeys()).toEqual([]);
  });

  it('the Report handler records a finished build\'s cost where the next plan finds it', async () => {
    const before = await new S3SpendLedger(store).entriesOf('2026-11');
    await recordSpend(spentReport('gh-5', 'octo/app', '2026-11-30T16:00:00Z', 0.02), new S3SpendLedger(store));
    const after = await new S3SpendLedger(store).entriesOf('2026-11');
    expect(after.length).toBe(before.length + 1);
    expect(after).toContainEqual({ buildId: 'gh-5', repository: 'octo/app', day: '2026-11-30', costUsd: 0.02 });
  });
});
