/** One build's progress told to two followers: the farm's record first, then whoever else follows it. */
import type { BuildProgress } from './build-runner.js';

export function alsoTo(follower: BuildProgress | undefined, first: BuildProgress): BuildProgress {
  if (follower === undefined) return first;
  return {
    planned: (plan) => (first.planned(plan), follower.planned(plan)),
    stageStarted: (stage, at) => (first.stageStarted(stage, at), follower.stageStarted(stage, at)),
    stageLog: (stage, chunk) => (first.stageLog(stage, chunk), follower.stageLog(stage, chunk)),
    stageFinished: (result) => (first.stageFinished(result), follower.stageFinished(result)),
  };
}
