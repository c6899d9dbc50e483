/** The lines `buildfarm run` ends with: where the build's logs, artifacts and report are, as plain files. */
import path from 'node:path';
import type { BuildReport } from '../domain/report/types.js';
import { buildPrefix } from '../domain/storage-keys.js';

/** Most stages named one by one; a larger build names the folder that holds them. */
const STAGES_NAMED = 10;

export function describeBuildFiles(report: BuildReport, directory: string, dataDirectory: string, cwd: string): string {
  const shown = (file: string) => {
    const relative = path.relative(cwd, file);
    return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
  };
  const lines = [`files of this build: ${shown(directory)}/`];
  const stages = report.stages.filter((stage) => stage.logKey !== undefined);
  if (stages.length > 0 && stages.length <= STAGES_NAMED) {
    const width = Math.max(...stages.map((stage) => stage.name.length));
    for (const stage of stages) {
      const artifacts = stage.artifacts.length > 0 ? `  (+ ${stage.artifacts.length} artifact${stage.artifacts.length === 1 ? '' : 's'} in artifacts/)` : '';
      lines.push(`  ${stage.name.padEnd(width)}  ${shown(path.join(directory, stage.logKey!.slice(buildPrefix(report.buildId).length)))}${artifacts}`);
    }
  } else if (stages.length > STAGES_NAMED) {
    lines.push(`  logs: ${shown(path.join(directory, 'stages'))}/STAGE/log.txt, artifacts: ${shown(path.join(directory, 'stages'))}/STAGE/artifacts/`);
  }
  lines.push(`  report: ${shown(path.join(directory, 'report.json'))}`);
  lines.push(`dashboard: buildfarm serve --data-dir ${shown(dataDirectory)} lists this build`);
  return `${lines.join('\n')}\n`;
}
