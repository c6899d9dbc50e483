/**
 * The farm's policy from the plan function's environment, set by template.yaml from the
 * `ForkPolicy`, `MaxBuildCostUsd` and `MaxForkBuildCostUsd` parameters. The variables have the
 * same names as the local farm's, so a report's reason names the setting on both.
 *
 * A variable that is absent takes the domain's default; one that is set but empty means "no
 * limit" for a cost (the template's `MaxBuildCostUsd` default). A bad value fails every Plan task
 * with a message naming the variable and the parameter: a build must not run under a policy the
 * operator did not mean.
 */
import { farmPolicyFrom, type FarmPolicy, type SettingNames } from '../domain/plan/farm-policy.js';
import { costSettingsFrom } from '../domain/plan/farm-settings.js';

export function farmPolicyFromEnvironment(env: NodeJS.ProcessEnv): FarmPolicy {
  const where = (names: SettingNames) => `${names.env} (template parameter ${names.parameter})`;
  return {
    ...farmPolicyFrom(
      {
        forks: env.BUILDFARM_FORKS,
        maxBuildCostUsd: env.BUILDFARM_MAX_BUILD_COST_USD,
        maxForkBuildCostUsd: env.BUILDFARM_MAX_FORK_BUILD_COST_USD,
      },
      where,
    ),
    // Budgets (0 or empty = none), the optimize goal and the pull request cost threshold.
    ...costSettingsFrom(
      {
        daily: env.BUILDFARM_DAILY_BUDGET_USD,
        monthly: env.BUILDFARM_MONTHLY_BUDGET_USD,
        repoDaily: env.BUILDFARM_REPO_DAILY_BUDGETS_USD,
        repoMonthly: env.BUILDFARM_REPO_MONTHLY_BUDGETS_USD,
        optimize: env.BUILDFARM_OPTIMIZE,
        prThreshold: env.BUILDFARM_PR_COST_THRESHOLD_PCT,
      },
      where,
    ),
  };
}
