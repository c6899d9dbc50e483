/**
 * Budgets on the AWS path: the Report handler records each build's cost in the spend ledger
 * and the Plan handler sums it from a listing, both through the real S3 adapter against
 * moto_server (an S3 we did not write). A build whose prediction would take the spend past a
 * budget is refused: no stage starts, its report says `refused` with the budget's figures, and
 * its commit status says so too. moto checks request shapes, not IAM (the grants are in
 * test/aws/iam/control-plane-roles.test.ts).
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { S3SpendLedger } from '../../functions/adapters/s3-spend-ledger.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { farmPolicyFromEnvironment } from '../../functions/handlers/farm-policy-environment.js';
import { planTask } from '../../functions/handlers/plan.js';
import { recordSpend } from '../../functions/handlers/record-spend.js';
import { reportTask } from '../../functions/handlers/report.js';
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

  beforeAll(async () => {
    moto = await startMotoServer();
    const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'farm' }));
    store = new S3ArtifactStore(s3, 'farm');
    const ledger = new S3SpendLedger(store);
    // Earlier builds this month, as the Report handler records them.
    await recordSpend(spentReport('gh-1', 'octo/app', '2026-11-30T09:00:00Z', 0.97), ledger);
    await recordSpend(spentReport('gh-2', 'octo/other', '2026-11-30T10:00:00Z', 0.5), ledger);
    await recordSpend(spentReport('gh-3', 'octo/app', '2026-11-03T10:00:00Z', 3), ledger);
    await recordSpend(spentReport('gh-4', 'octo/app', '2026-10-31T23:59:00Z', 50), ledger); // last month: not counted
  }, 90_000);

  afterAll(async () => {
    await moto?.stop();
  });

  const planWith = (env: Record<string, string>, buildId: string) =>
    planTask(
      { buildId, request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN },
      {
        store,
        source: { snapshot: () => tarball({ '.buildfarm.yml': PIPELINE }) },
        config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
        prices: DEFAULT_PRICE_BOOK,
        policy: farmPolicyFromEnvironment(env),
        now: () => NOW,
      },
    );

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
    const refused = await planWith({ BUILDFARM_MONTHLY_BUDGET_USD: '4.5' }, 'b-monthly');
    expect(refused.reason).toBe(
      "predicted $0.0496 would take spend past the farm's monthly budget $4.50: $4.47 spent this month (UTC) (BUILDFARM_MONTHLY_BUDGET_USD / MonthlyBudgetUSD)",
    );
  });

  it('the Report handler records a finished build\'s cost where the next plan finds it', async () => {
    const before = await new S3SpendLedger(store).entriesOf('2026-11');
    await recordSpend(spentReport('gh-5', 'octo/app', '2026-11-30T16:00:00Z', 0.02), new S3SpendLedger(store));
    const after = await new S3SpendLedger(store).entriesOf('2026-11');
    expect(after.length).toBe(before.length + 1);
    expect(after).toContainEqual({ buildId: 'gh-5', repository: 'octo/app', day: '2026-11-30', costUsd: 0.02 });
  });
});
