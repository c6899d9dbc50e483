/** Lint rules for names that become S3 keys, shell names and environment variables. */
import { stageKey, type LintRule } from './lint-rule.js';

/** Stage names become S3 key segments and shell-safe names. */
export const STAGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** POSIX portable environment variable names. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const STAGE_NAME_LINT_RULE: LintRule = {
  id: 'stage-name',
  summary: 'stage names are S3-key and shell safe',
  check: (pipeline, sites) =>
    pipeline.stages
      .filter((stage) => !STAGE_NAME_PATTERN.test(stage.name))
      .map((stage) =>
        sites.issue(
          stageKey(stage),
          `stage name ${JSON.stringify(stage.name)} is not allowed: stage names become S3 keys and shell-safe names, ` +
            'so they start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 64 characters)',
        ),
      ),
};

export const ENV_LINT_RULES: readonly LintRule[] = [
  {
    id: 'env-name',
    summary: 'env and secret names are valid environment variable names',
    check: (pipeline, sites) =>
      pipeline.stages.flatMap((stage) =>
        [
          ...Object.keys(stage.env).map((name) => `${stageKey(stage)}.env.${name}`),
          ...Object.keys(stage.secrets).map((name) => `${stageKey(stage)}.secrets.${name}`),
        ]
          .filter((key) => !ENV_NAME_PATTERN.test(key.slice(key.lastIndexOf('.') + 1)))
          .map((key) => {
            const name = key.slice(key.lastIndexOf('.') + 1);
            return sites.issue(
              key,
              `${JSON.stringify(name)} is not a valid environment variable name; use letters, digits and "_", not starting with a digit`,
            );
          }),
      ),
  },
  {
    id: 'env-secret-overlap',
    summary: 'a variable is either env or secret, not both',
    check: (pipeline, sites) =>
      pipeline.stages.flatMap((stage) =>
        Object.keys(stage.secrets)
          .filter((name) => Object.hasOwn(stage.env, name))
          .map((name) =>
            sites.issue(
              `${stageKey(stage)}.secrets.${name}`,
              `${JSON.stringify(name)} is set in both env (${sites.nearest(`${stageKey(stage)}.env.${name}`).path}) and secrets; ` +
                'a variable comes from one place, so remove one of them',
            ),
          ),
      ),
  },
];
