/**
 * Hostile pipeline files through the CLI (issue 6): names that break shells or
 * S3 keys, absurd sizes and timeouts. Each case names what it defends against.
 * Billion laughs, huge files and deep nesting are covered by the parser's own
 * tests (see test/hostile/README.md).
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';

function pipelineDir(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bf-hostile-'));
  writeFileSync(path.join(dir, '.buildfarm.yml'), text);
  return dir;
}

/** A one-stage pipeline whose stage key is `name`, written as a double-quoted YAML key. */
function stageNamed(name: string): string {
  return `version: 1\nstages:\n  ${JSON.stringify(name)}:\n    commands: [make]\n`;
}

function expectCleanRefusal(run: CliRun): void {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  // A user error, never a crash: no stack frame, no error class dump.
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toMatch(/\b(TypeError|RangeError|SyntaxError)\b/);
}

describe('Hostile: stage names that break shells or S3 keys', () => {
  it.each([
    ['a command separator', 'build;rm -rf ~'],
    ['command substitution', '$(touch pwned)'],
    ['backticks', 'x`touch pwned`'],
    ['a space', 'build app'],
    ['a path out of the build prefix', '../other-build'],
    ['a slash (an extra S3 key level)', 'a/b'],
    ['unicode look-alikes', 'bυild'],
    ['a leading dash (an option to every tool)', '-rf'],
    ['a glob', 'stage*'],
    ['65 characters', 'a'.repeat(65)],
  ])('defends against %s in a stage name: validate and plan exit 1 naming the stage', async (_label, name) => {
    // Prepare
    const dir = pipelineDir(stageNamed(name));

    // Act
    const validate = await runCli(['validate'], { cwd: dir });
    const plan = await runCli(['plan'], { cwd: dir });

    // Assess
    expectCleanRefusal(validate);
    expect(validate.stderr).toContain(`stage name ${JSON.stringify(name)} is not allowed`);
    expect(validate.stderr).toMatch(/^\.buildfarm\.yml:3:3 /);
    expectCleanRefusal(plan);
    // Nothing in the name was ever run.
    expect(readdirSync(dir)).toEqual(['.buildfarm.yml']);
  });

  it('accepts a 64-character name, the longest allowed, so the limit is where the message says', async () => {
    // Prepare
    const dir = pipelineDir(stageNamed('a'.repeat(64)));

    // Act
    const run = await runCli(['validate'], { cwd: dir });

    // Assess
    expect(run.code).toBe(0);
  });

  it.each([
    ['a newline that would forge a second issue line', 'x\n.buildfarm.yml:1:1 all good', 'x\\n.buildfarm.yml:1:1 all good'],
    ['a terminal escape sequence', 'x\u001b]0;owned\u0007\u001b[2J', 'x\\u001b]0;owned\\u0007\\u001b[2J'],
    ['a NUL byte', 'x\u0000y', 'x\\u0000y'],
  ])('defends against %s in a stage name: each issue stays one line, with the control characters escaped', async (_label, name, escaped) => {
    // Prepare: a second stage that needs the hostile one, so the name is also quoted in a list of known stages
    const dir = pipelineDir(`${stageNamed(name)}  b:\n    commands: [make]\n    needs: [nope]\n`);

    // Act
    const run = await runCli(['validate'], { cwd: dir });

    // Assess
    expectCleanRefusal(run);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => /^\.buildfarm\.yml:\d+:\d+ /.test(line))).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(run.stderr.trimEnd()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(lines[0]).toContain(`stages.${escaped}: stage name`);
    expect(lines[1]).toContain(`known stages: ${escaped}, b`);
  });

  it('defends against hostile names in needs: an unknown stage, quoted, never looked up as a path', async () => {
    // Prepare
    const dir = pipelineDir('version: 1\nstages:\n  a:\n    commands: [make]\n    needs: ["$(reboot)", "../../etc"]\n');

    // Act
    const run = await runCli(['validate'], { cwd: dir });

    // Assess
    expectCleanRefusal(run);
    expect(run.stderr).toContain('stage "a" needs "$(reboot)", which is not a stage');
    expect(run.stderr).toContain('stage "a" needs "../../etc", which is not a stage');
  });
});

describe('Hostile: absurd sizes and timeouts', () => {
  it.each([
    ['a cpu that overflows to Infinity', 'resources: { cpu: 1e400 }', 'stages.a.resources.cpu: expected a number of vCPU'],
    ['a cpu of NaN', 'resources: { cpu: .nan }', 'stages.a.resources.cpu: expected a number of vCPU'],
    ['a negative cpu', 'resources: { cpu: -4 }', 'stages.a.resources.cpu: -4 vCPU is outside the sizes Fargate offers'],
    ['a cpu in hex', 'resources: { cpu: "0x10" }', 'stages.a.resources.cpu: expected a number of vCPU'],
    ['a memory of Infinity', 'resources: { memory: .inf }', 'stages.a.resources.memory: expected a size'],
    ['a memory of 20 digits of TB', 'resources: { memory: 99999999999999999999TB }', 'stages.a.resources.memory: expected a size'],
    ['a memory of zero', 'resources: { memory: 0 }', 'stages.a.resources.memory: 0 is below the smallest size any runner offers'],
    ['a negative disk', 'resources: { disk: -1GB }', 'stages.a.resources.disk: expected a size'],
    ['a disk past Fargate\'s 200 GiB', 'resources: { disk: 100TB }', 'stages.a.resources.disk:'],
    ['a timeout of 20 digits of hours', 'timeout: 99999999999999999999h', 'stages.a.timeout: "99999999999999999999h" is above the farm\'s limit of 24h'],
    ['a timeout of a billion seconds', 'timeout: 1000000000', 'stages.a.timeout: 1000000000 is above the farm\'s limit of 24h'],
    ['a timeout of Infinity', 'timeout: .inf', 'stages.a.timeout: expected a duration'],
    ['a negative timeout', 'timeout: -5s', 'stages.a.timeout: expected a duration'],
    ['a zero timeout', 'timeout: 0', 'stages.a.timeout: 0 would stop the stage before it starts'],
  ])('defends against %s: validate exits 1 with the field and what is allowed', async (_label, field, expected) => {
    // Prepare
    const dir = pipelineDir(`version: 1\nstages:\n  a:\n    commands: [make]\n    ${field}\n`);

    // Act
    const run = await runCli(['validate'], { cwd: dir });

    // Assess
    expectCleanRefusal(run);
    expect(run.stderr).toMatch(/^\.buildfarm\.yml:5:\d+ /);
    expect(run.stderr).toContain(expected);
  });
});

describe('Hostile: YAML bombs, huge files and deep nesting through the CLI', () => {
  // The parser's own tests check each limit; these check the whole command stays a clean, one-line refusal.
  function billionLaughs(): string {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level < 9; level++) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(',')}]`);
    }
    return ['version: 1', ...levels, 'stages:', '  x: { commands: *i }', ''].join('\n');
  }

  it.each([
    ['a billion-laughs alias bomb', billionLaughs(), 'billion laughs'],
    ['a 2 MiB file', `version: 1\nstages:\n  a: { commands: [x] }\n# ${'x'.repeat(2 * 1024 * 1024)}\n`, '1 MiB'],
    ['100,000 levels of flow nesting', `version: 1\nstages: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, 'nested more than 64 levels deep'],
  ])('defends against %s: validate and plan exit 1 with one issue line', async (_label, text, expected) => {
    // Prepare
    const dir = pipelineDir(text);

    // Act
    const validate = await runCli(['validate'], { cwd: dir });
    const plan = await runCli(['plan'], { cwd: dir });

    // Assess
    expectCleanRefusal(validate);
    expect(validate.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(validate.stderr).toContain(expected);
    expectCleanRefusal(plan);
  });
});
