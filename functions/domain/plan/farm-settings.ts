/**
 * The cost settings beside the fork policy and limits: budgets, the optimize goal and the pull
 * request cost threshold, from text settings (flags or environment variables). `where` names a
 * setting for errors, as farmPolicyFrom's does.
 */
import { budgetsFrom, hasBudgets } from '../budget/budgets.js';
import { parsePercent } from '../pipeline/percent.js';
import { InvalidFarmSetting, type FarmPolicy, type SettingNames } from './farm-policy.js';
import { OPTIMIZE_SETTING, parseOptimizeGoal } from './optimize.js';

export const PR_COST_THRESHOLD_SETTING: SettingNames = { flag: '--pr-cost-threshold', env: 'BUILDFARM_PR_COST_THRESHOLD_PCT', parameter: 'PrCostThresholdPct' };

export interface CostSettingsText {
  daily?: string;
  monthly?: string;
  repoDaily?: string;
  repoMonthly?: string;
  optimize?: string;
  prThreshold?: string;
}

/** A percentage (`25` or `25%`); empty means none. */
export function parseThresholdPercent(text: string, where: string): number | undefined {
  if (text.trim() === '') return undefined;
  const percent = parsePercent(text);
  if (!percent.ok) throw new InvalidFarmSetting(`${where}: "${text}" is not a percentage; allowed: a number of 0 or more such as 25 or 25%, or empty for none`);
  return percent.value;
}

export function costSettingsFrom(settings: CostSettingsText, where: (names: SettingNames) => string): Pick<FarmPolicy, 'budgets' | 'optimize' | 'prCostThresholdPercent'> {
  const budgets = budgetsFrom(settings, where);
  const optimize = settings.optimize === undefined || settings.optimize.trim() === '' ? undefined : parseOptimizeGoal(settings.optimize, where(OPTIMIZE_SETTING));
  const threshold = settings.prThreshold === undefined ? undefined : parseThresholdPercent(settings.prThreshold, where(PR_COST_THRESHOLD_SETTING));
  return {
    ...(hasBudgets(budgets) ? { budgets } : {}),
    ...(optimize ? { optimize } : {}),
    ...(threshold !== undefined ? { prCostThresholdPercent: threshold } : {}),
  };
}
