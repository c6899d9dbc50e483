import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  commandsScript,
  shellQuote,
  stageScript,
  type ScriptPaths,
} from '../../../functions/domain/fargate/stage-script.js';

let dir: string;
let paths: ScriptPaths;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stage-script-'));
  paths = {
    workspace: join(dir, 'workspace'),
    commandsScript: join(dir, 'commands.sh'),
    logFile: join(dir, 'log.txt'),
    exitCodeFile: join(dir, 'exit-code'),
    secretsDir: join(dir, 'secrets'),
  };
  mkdirSync(paths.workspace);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes both scripts and runs stage.sh as the build container does. */
function runStage(commands: string[], env: Record<string, string> = {}) {
  writeFileSync(paths.commandsScript, commandsScript(commands, paths));
  const stage = join(dir, 'stage.sh');
  writeFileSync(stage, stageScript({ env }, paths));
  const run = spawnSync('sh', [stage], { encoding: 'utf8', env: { PATH: process.env.PATH, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/secret-id' } });
  return { code: run.status, stdout: run.stdout, log: readFileSync(paths.logFile, 'utf8') };
}

describe('Function: stageScript', () => {
  it('runs the commands in the workspace and exits 0 when they all succeed', () => {
    const result = runStage(['pwd', 'echo built > out.txt']);
    expect(result.code).toBe(0);
    expect(result.log).toContain(paths.workspace);
    expect(readFileSync(join(paths.workspace, 'out.txt'), 'utf8')).toBe('built\n');
  });

  it('stops at the first failing command and exits with its code', () => {
    const result = runStage(['echo one', 'exit 3', 'echo never']);
    expect(result.code).toBe(3);
    expect(result.log).toContain('one');
    expect(result.log).not.toContain('\nnever');
  });

  it('fails a multi-line command at its first failing line (sh -e)', () => {
    const result = runStage(['false\necho after']);
    expect(result.code).toBe(1);
    expect(result.log).not.toContain('\nafter');
  });

  it('copies the output to the log file and to stdout (CloudWatch)', () => {
    const result = runStage(['echo to-both; echo err-too >&2']);
    expect(result.log).toContain('to-both');
    expect(result.log).toContain('err-too');
    expect(result.stdout).toContain('to-both');
  });

  it('does not hand the task credentials pointer to the commands', () => {
    const result = runStage(['echo "uri=[$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI]"']);
    expect(result.log).toContain('uri=[]');
  });

  it('passes hostile commands and environment values through unchanged', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }).filter((s) => !s.includes('\0')), (value) => {
        const result = runStage(['printf "%s" "$VALUE" > value.txt'], { VALUE: value });
        expect(result.code).toBe(0);
        expect(readFileSync(join(paths.workspace, 'value.txt'), 'utf8')).toBe(value);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses an environment name the shell would misread', () => {
    expect(() => stageScript({ env: { 'A;rm -rf /': 'x' } }, paths)).toThrow(expect.objectContaining({ name: 'InvalidEnvironmentName' }));
  });
});

describe('Function: shellQuote', () => {
  it('round-trips any string through sh', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }).filter((s) => !s.includes('\0')), (value) => {
        const run = spawnSync('sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
        expect(run.stdout).toBe(value);
      }),
      { numRuns: 50 },
    );
  });
});
