/** Lint rule for `artifacts`: every glob stays inside the workspace. */
import { stageKey, type LintRule } from './lint-rule.js';

export const ARTIFACT_PATH_LINT_RULE: LintRule = {
  id: 'artifact-path',
  summary: 'artifact globs stay inside the workspace',
  check: (pipeline, sites) =>
    pipeline.stages.flatMap((stage) =>
      stage.artifacts.flatMap((glob, index) => {
        const why = artifactProblem(glob);
        return why
          ? [sites.issue(`${stageKey(stage)}.artifacts[${index}]`, `${JSON.stringify(glob)} ${why}; artifacts are globs relative to the workspace, such as dist/** or reports/*.xml`)]
          : [];
      }),
    ),
};

function artifactProblem(glob: string): string | undefined {
  if (glob.trim() === '') return 'is empty';
  if (/^([/\\~]|[A-Za-z]:)/.test(glob)) return 'is absolute';
  if (glob.split(/[/\\]/).includes('..')) return 'leaves the workspace (it contains "..")';
  return undefined;
}
