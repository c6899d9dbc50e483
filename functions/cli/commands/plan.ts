import { parseArgs } from 'node:util';
import { UserError } from '../../domain/errors.js';
import { matchesTriggers } from '../../domain/pipeline/triggers.js';
import { admitByCost, admitByForkPolicy, secretsWithheld } from '../../domain/plan/admission.js';
import { planPipeline } from '../../domain/plan/planner.js';
import type { PlanContext } from '../../domain/plan/types.js';
import { FARM_OPTIONS, FARM_POLICY_HELP, farmPolicy, loadPriceBook, plannerConfig } from '../farm-config.js';
import { formatPlan } from '../format-plan.js';
import { currentBranch } from '../git.js';
import { loadPipelineFile } from '../load-pipeline.js';
import type { CliIo } from '../main.js';
import { loadPlanHistory, localRepositoryOf } from '../plan-history.js';

const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9._-]+$/;

const HELP = `Usage: buildfarm plan [FILE|DIR] [options]

Shows, stage by stage, where the pipeline (FILE, default ./.buildfarm.yml; a DIR stands for
DIR/.buildfarm.yml) would run (Lambda or Fargate), at what
size, why, and what it should cost.

Options:
  --json                       print the plan as JSON (the contract the state machine consumes)
  --event push|pull_request    the event to plan for (default push)
  --branch B                   the branch to plan for (default: the checked-out branch, else main)
  --base B                     for pull_request: the base branch (default main)
  --fork                       for pull_request: plan it as coming from a fork (the farm's fork policy applies)
  --data-dir DIR               the local farm's data directory whose stage history predictions and right-sizing use
                               (default ./buildfarm-data; none there: predictions from the timeouts, and the plan says so)
  --repo OWNER/NAME            whose history to read (default local/<the pipeline file's folder>, as buildfarm run names it;
                               the name a serve --repo mapping gives)
  --region R                   price region (default $BUILDFARM_REGION, else $AWS_REGION, else us-east-1)
  --prices FILE                JSON prices merged over the built-in price book (or $BUILDFARM_PRICES)
  --lambda-storage MB          the Lambda runner's /tmp (default 512 like the template, or $BUILDFARM_LAMBDA_STORAGE_MB)
  --lambda-tiers LIST          the Lambda runner tiers the farm deploys, e.g. 1024,2048,4096 (default 1024,2048
                               like the template's LambdaRunnerMaxMemoryMB, or $BUILDFARM_LAMBDA_TIERS_MB)
${FARM_POLICY_HELP}

A build the farm would refuse (fork policy off, or predicted over a cost limit) is said so
after the plan, and the command exits 1.`;

export async function planCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      event: { type: 'string' },
      branch: { type: 'string' },
      base: { type: 'string' },
      fork: { type: 'boolean' },
      'data-dir': { type: 'string' },
      repo: { type: 'string' },
      ...FARM_OPTIONS,
    },
  });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const event = values.event ?? 'push';
  if (event !== 'push' && event !== 'pull_request') {
    throw new UserError(`--event: "${event}" is not an event the farm builds; allowed: push, pull_request`);
  }
  if (values.fork && event !== 'pull_request') throw new UserError('--fork: only a pull request comes from a fork; add --event pull_request');
  const policy = farmPolicy(values, io.env);
  const request = { fromFork: values.fork === true };
  const forks = admitByForkPolicy(request, policy);
  if (!forks.run) {
    io.stdout.write(values.json ? `${JSON.stringify({ refused: true, reason: forks.reason }, null, 2)}\n` : `refused: ${forks.reason}\n`);
    return 1;
  }
  const { pipeline, file, locate } = await loadPipelineFile(positionals[0], io.cwd);
  const branch = values.branch ?? (await currentBranch(io.cwd)) ?? 'main';
  const baseBranch = event === 'pull_request' ? (values.base ?? 'main') : undefined;
  // The farm builds only what `on:` triggers; say so rather than plan a build that would not run.
  const trigger = matchesTriggers(pipeline.on, { event, branch, ...(baseBranch ? { baseBranch } : {}), message: '' });
  if (!trigger.build) {
    io.stdout.write(values.json ? `${JSON.stringify({ triggered: false, reason: trigger.reason }, null, 2)}\n` : `not triggered: ${trigger.reason}\n`);
    return 0;
  }
  const context: PlanContext = { event, branch, ...(baseBranch ? { baseBranch } : {}), secretsWithheld: secretsWithheld(request, policy) };
  const repository = values.repo ?? localRepositoryOf(file, io.cwd);
  if (!REPOSITORY.test(repository)) throw new UserError(`--repo: "${repository}" is not OWNER/NAME (e.g. acme/api, or local/my-app as buildfarm run names a folder)`);
  const { history, note } = await loadPlanHistory({ dataDir: values['data-dir'], cwd: io.cwd, repository, stages: pipeline.stages });
  const plan = planPipeline(pipeline, context, { ...plannerConfig(values, io.env), ...(policy.optimize ? { optimize: policy.optimize } : {}) }, {
    prices: await loadPriceBook(values, io.env),
    history,
    file,
    locate,
  });
  // With --json, stdout stays the plan a program reads; the history line goes to stderr.
  if (values.json) {
    io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    io.stderr.write(`${note}\n`);
  } else io.stdout.write(`${formatPlan(plan)}${note}\n`);
  const cost = admitByCost(request, plan.predictedCostUsd, policy);
  if (!cost.run) {
    // On stderr with --json, so stdout stays the plan a program reads.
    (values.json ? io.stderr : io.stdout).write(`refused: ${cost.reason}\n`);
    return 1;
  }
  return 0;
}
