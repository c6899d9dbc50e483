/**
 * Which stages' artifacts a stage receives: every stage it depends on, directly or
 * through others, that declares `artifacts` at all. The one place that decides it
 * (the planner writes it into the plan as `artifactsFrom`; the agent reads it back
 * through `artifactSources`).
 *
 * Transitive, unlike GitHub Actions (where a job gets only what it downloads): a
 * pipeline `install -> test -> package` has always given `package` the `node_modules`
 * of `install`, and the docs promise it. Stages that declare no artifacts are left
 * out, so a chain of N such stages reads nothing of its upstream: the S3 requests of
 * a stage stay constant, however long the chain (docs/pipeline-file.md).
 */
import type { PlannedStage } from './types.js';

/** The upstream stages (`upstream`, in its order) whose pipeline entry declares artifacts. */
export function artifactSourcesOf(upstream: string[], declaresArtifacts: (stage: string) => boolean): string[] {
  return upstream.filter(declaresArtifacts);
}

/** The stages whose artifacts join `stage`'s workspace. Plans written before `artifactsFrom` existed fall back to `upstream`. */
export function artifactSources(stage: Pick<PlannedStage, 'upstream'> & { artifactsFrom?: string[] }): string[] {
  return stage.artifactsFrom ?? stage.upstream;
}
