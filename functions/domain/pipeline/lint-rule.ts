/**
 * What a lint rule is, and the helpers the rules share to walk the pipeline and to quote
 * values as the user wrote them.
 */
import type { PipelineIssue } from '../errors.js';
import { showValue, type FieldSites } from './field-sites.js';
import type { Pipeline, StageSpec } from './types.js';

export interface LintRule {
  /** Stable id; test/fixtures/lint/<id>.yml shows the rule firing. */
  id: string;
  summary: string;
  check(pipeline: Pipeline, sites: FieldSites): PipelineIssue[];
}

export function stageKey(stage: StageSpec): string {
  return `stages.${stage.name}`;
}

export function eachStage(pipeline: Pipeline, check: (stage: StageSpec) => PipelineIssue | undefined): PipelineIssue[] {
  return pipeline.stages.flatMap((stage) => check(stage) ?? []);
}

export function eachNeed(pipeline: Pipeline, check: (stage: StageSpec, need: string, index: number) => PipelineIssue | undefined): PipelineIssue[] {
  return pipeline.stages.flatMap((stage) => stage.needs.flatMap((need, index) => check(stage, need, index) ?? []));
}

/** The value as the user wrote it (`"200GB"`), or a formatted fallback. */
export function written(sites: FieldSites, key: string, fallback: unknown): string {
  const site = sites.get(key);
  return site?.value !== undefined ? showValue(site.value) : showValue(fallback);
}

/** The value as written, naming `defaults` when the stage inherited it. */
export function describe(sites: FieldSites, key: string, fallback: unknown): string {
  const site = sites.get(key);
  const value = written(sites, key, fallback);
  return site && site.path !== key ? `${value} (from ${site.path})` : value;
}
