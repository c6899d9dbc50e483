/** Lint rules for `needs`: every need names another stage, and the stages form a DAG. */
import { findCycles } from './needs-graph.js';
import { eachNeed, stageKey, type LintRule } from './lint-rule.js';

export const NEEDS_LINT_RULES: readonly LintRule[] = [
  {
    id: 'needs-self',
    summary: 'a stage cannot need itself',
    check: (pipeline, sites) =>
      eachNeed(pipeline, (stage, need, index) =>
        need === stage.name
          ? sites.issue(`${stageKey(stage)}.needs[${index}]`, `stage ${JSON.stringify(stage.name)} needs itself; a stage cannot wait for its own result`)
          : undefined,
      ),
  },
  {
    id: 'needs-unknown',
    summary: 'needs name existing stages',
    check: (pipeline, sites) => {
      const known = new Set(pipeline.stages.map((stage) => stage.name));
      const list = pipeline.stages.map((stage) => stage.name).join(', ');
      return eachNeed(pipeline, (stage, need, index) =>
        known.has(need)
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.needs[${index}]`,
              `stage ${JSON.stringify(stage.name)} needs ${JSON.stringify(need)}, which is not a stage; known stages: ${list}`,
            ),
      );
    },
  },
  {
    id: 'needs-cycle',
    summary: 'needs form a DAG',
    check: (pipeline, sites) =>
      findCycles(pipeline).map((cycle) => {
        const first = pipeline.stages.find((stage) => stage.name === cycle[0])!;
        const index = first.needs.indexOf(cycle[1]);
        return sites.issue(
          `${stageKey(first)}.needs[${index}]`,
          `cycle ${cycle.join(' -> ')}; stages must form a DAG, so remove one of these needs`,
        );
      }),
  },
];
