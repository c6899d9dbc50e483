/**
 * A stage's history is keyed by a hash of what decides how long it runs and how much it uses,
 * so an edited stage starts with no history (its old durations would mislead the planner) and a
 * pull request that edits a stage does not overwrite the history of the unedited stage on main.
 *
 * In the hash: commands, image, resources (or `auto`), runner, architecture, Spot, the names of
 * its environment variables and secrets, and its artifact globs. Not in it: env values (a version
 * string changing every build would wipe the history), timeout and needs (they change what may
 * run, not what it costs). A stage with `resources: auto` hashes `auto`, not the size history
 * gave it: otherwise each new size would reset the very history that chose it.
 */
import { createHash } from 'node:crypto';
import type { StageSpec } from '../pipeline/types.js';

/** 16 hex digits (64 bits) of SHA-256: a collision between two versions of one stage is not a concern. */
export function stageDefinitionHash(stage: StageSpec): string {
  const definition = {
    commands: stage.commands,
    image: stage.image ?? null,
    resources: stage.resourcesAuto ? 'auto' : stage.resources,
    runner: stage.runner,
    architecture: stage.architecture,
    spot: stage.spot,
    env: Object.keys(stage.env).sort(),
    secrets: Object.keys(stage.secrets).sort(),
    artifacts: stage.artifacts,
  };
  return createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 16);
}

/** The name a stage's history is stored under: `{stage}/{definition hash}` (history/{owner}/{repo}/{stage}/{hash}.json). */
export function historyIdOf(stage: StageSpec): string {
  return `${stage.name}/${stageDefinitionHash(stage)}`;
}
