import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  commandsScript,
  secretFile,
  shellQuote,
  stageScript,
  timedOutMarker,
  type ScriptPaths,
} from '../../../functions/domain/fargate/stage-script.js';
import { STAGE_TIMEOUT_EXIT_CODE } from '../../../functions/domain/fargate/task-timeout.js';

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

  it('sends the output to the log file only, never to stdout (the live-log container caps what reaches CloudWatch)', () => {
    const result = runStage(['echo to-log; echo err-too >&2']);
    expect(result.log).toContain('to-log');
    expect(result.log).toContain('err-too');
    expect(result.stdout).not.toContain('to-log');
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

/** Leaves the secret files as fetch does, then runs stage.sh as the build container does. */
function runWithSecrets(commands: string[], secrets: Record<string, string>, env: Record<string, string> = {}) {
  mkdirSync(paths.secretsDir, { recursive: true });
  for (const [name, value] of Object.entries(secrets)) writeFileSync(secretFile(name, paths), value, { mode: 0o400 });
  writeFileSync(paths.commandsScript, commandsScript(commands, paths));
  const stage = join(dir, 'stage.sh');
  writeFileSync(stage, stageScript({ env, secrets: Object.fromEntries(Object.keys(secrets).map((n) => [n, {}])) }, paths));
  const run = spawnSync('sh', [stage], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { code: run.status, stdout: run.stdout + run.stderr, log: existsSync(paths.logFile) ? readFileSync(paths.logFile, 'utf8') : '' };
}

describe('Function: stageScript, for a stage with secrets', () => {
  it('loads each secret into its variable and deletes the files before the first command', () => {
    const result = runWithSecrets([`test ! -e ${shellQuote(paths.secretsDir)} && echo gone`, 'printf "%s" "$TOKEN" > token.txt'], { TOKEN: 'abc' });
    expect(result.code).toBe(0);
    expect(result.log).toContain('gone');
    expect(readFileSync(join(paths.workspace, 'token.txt'), 'utf8')).toBe('abc');
    expect(existsSync(paths.secretsDir)).toBe(false);
  });

  it('sends the commands’ output to the log file only, never to stdout (CloudWatch, unmasked)', () => {
    const result = runWithSecrets(['echo "out $TOKEN"; echo "err $TOKEN" >&2'], { TOKEN: 'abc' });
    expect(result.log).toContain('out abc');
    expect(result.log).toContain('err abc');
    expect(result.stdout).not.toContain('abc');
  });

  it('passes any value through as data: no quote, newline, substitution or backslash is interpreted', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.constantFrom("'", "'\\''", '$(touch pwned)', '`touch pwned`', '\n\n', 'a\nb\n', '\\', '"$HOME"', '%x', 'x', 'xx\n'),
        ).filter((s) => !s.includes('\0')),
        (value) => {
          const result = runWithSecrets(['printf "%s" "$SECRET" > value.txt'], { SECRET: value });
          expect(result.code).toBe(0);
          expect(readFileSync(join(paths.workspace, 'value.txt'), 'utf8')).toBe(value);
          expect(existsSync(join(paths.workspace, 'pwned'))).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('stops before any command when a secret file cannot be read, and says so', () => {
    // Prepare: a name in the script without its file
    mkdirSync(paths.secretsDir);
    writeFileSync(paths.commandsScript, commandsScript(['touch ran.txt'], paths));
    writeFileSync(join(dir, 'stage.sh'), stageScript({ env: {}, secrets: { MISSING: {} } }, paths));

    // Act
    const run = spawnSync('sh', [join(dir, 'stage.sh')], { encoding: 'utf8' });

    // Assess
    expect(run.status).toBe(1);
    expect(existsSync(join(paths.workspace, 'ran.txt'))).toBe(false);
    expect(readFileSync(paths.logFile, 'utf8')).toContain('cannot read secret MISSING');
  });

  it('lets a secret win over a plain variable of the same name', () => {
    const result = runWithSecrets(['printf "%s" "$TOKEN" > token.txt'], { TOKEN: 'secret' }, { TOKEN: 'plain' });
    expect(result.code).toBe(0);
    expect(readFileSync(join(paths.workspace, 'token.txt'), 'utf8')).toBe('secret');
  });

  it('refuses a secret name that is not a plain variable name (it is also a file name)', () => {
    expect(() => stageScript({ env: {}, secrets: { '../x': {} } }, paths)).toThrow(expect.objectContaining({ name: 'InvalidEnvironmentName' }));
    expect(() => secretFile('A/B', paths)).toThrow(expect.objectContaining({ name: 'InvalidEnvironmentName' }));
  });

  it('keeps the values themselves out of the script', () => {
    const script = stageScript({ env: {}, secrets: { TOKEN: { source: 'secretsmanager', id: 'buildfarm/token', raw: 'x' } } }, paths);
    expect(script).not.toContain('buildfarm/token');
    expect(script).toContain(secretFile('TOKEN', paths));
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

describe('Function: stageScript, with the stage timeout (the build container enforces it on Fargate)', () => {
  /** Runs stage.sh in its own process group, as the container's PID 1 has its own. */
  async function runLimited(commands: string[], timeoutSeconds: number) {
    writeFileSync(paths.commandsScript, commandsScript(commands, paths));
    const stage = join(dir, 'stage.sh');
    writeFileSync(stage, stageScript({ env: {}, timeoutSeconds }, paths));
    const started = Date.now();
    const child = spawn('sh', [stage], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    return { code, signal, stdout, elapsedMs: Date.now() - started, log: readFileSync(paths.logFile, 'utf8') };
  }

  it('stops commands that outlast the timeout and records it: exit code 124 and the timed-out marker', async () => {
    // Act
    const run = await runLimited(['echo started', 'sleep 30', 'echo never'], 1);

    // Assess: the group kill ends this test's script too (in the container, PID 1 survives it and exits 124)
    expect(run.elapsedMs).toBeLessThan(10_000);
    expect(readFileSync(paths.exitCodeFile, 'utf8').trim()).toBe(String(STAGE_TIMEOUT_EXIT_CODE));
    expect(existsSync(timedOutMarker(paths))).toBe(true);
    expect(run.log).toContain('started');
    expect(run.log).not.toContain('never');
    expect(run.log).toContain('ran longer than its timeout of 1 s');
  });

  it('leaves commands that finish in time alone: their exit code, no marker', async () => {
    // Act
    const run = await runLimited(['echo quick', 'exit 3'], 30);

    // Assess
    expect(run.code).toBe(3);
    expect(run.elapsedMs).toBeLessThan(10_000);
    expect(existsSync(timedOutMarker(paths))).toBe(false);
    expect(run.log).toContain('quick');
    expect(run.stdout).not.toContain('quick');
  });
});
