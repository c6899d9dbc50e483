import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineInvalid, formatIssue, type PipelineIssue } from '../../../functions/domain/errors.js';
import { parsePipeline, parsePipelineWithSites, readPipeline } from '../../../functions/domain/pipeline/parse.js';
import type { Pipeline } from '../../../functions/domain/pipeline/types.js';

const FULL_EXAMPLE = readFileSync(join(import.meta.dirname, '../../fixtures/pipeline/full.yml'), 'utf8');

function issuesOf(text: string, file = '.buildfarm.yml'): PipelineIssue[] {
  try {
    parsePipeline(text, file);
  } catch (error) {
    if (error instanceof PipelineInvalid) return error.issues;
    throw error;
  }
  throw new Error('expected the pipeline to be invalid');
}

const lines = (...text: string[]) => text.join('\n');
const short = (issue: PipelineIssue) => `${issue.line}:${issue.column} ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;

describe('Function: parsePipeline', () => {
  describe('the documented full example', () => {
    it('normalises every field, applying defaults field by field', () => {
      // Act
      const pipeline = parsePipeline(FULL_EXAMPLE);

      // Assess
      const expected: Pipeline = {
        version: 1,
        on: {
          push: { branches: ['main', 'release/**'], pathsIgnore: ['docs/**', '*.md'] },
          pull_request: { branches: ['main'] },
        },
        failFast: false,
        cancelSuperseded: true,
        stages: [
          {
            name: 'install',
            commands: ['npm ci'],
            needs: [],
            runner: 'lambda',
            resources: { cpu: 1, memoryMiB: 2048, diskMiB: 512 },
            explicit: { cpu: true, memory: true, disk: false },
            timeoutSeconds: 600,
            env: { CI: 'true', NODE_OPTIONS: '--max-old-space-size=1536' },
            secrets: {},
            artifacts: ['node_modules/**'],
            spot: false,
            architecture: 'arm64',
            runAsRoot: false,
          },
          {
            name: 'lint',
            commands: ['npm run lint'],
            needs: ['install'],
            runner: 'auto',
            resources: { cpu: 1, memoryMiB: 2048, diskMiB: 512 },
            explicit: { cpu: true, memory: true, disk: false },
            timeoutSeconds: 300,
            env: { CI: 'true', NODE_OPTIONS: '--max-old-space-size=1536' },
            secrets: {},
            artifacts: [],
            spot: false,
            architecture: 'arm64',
            runAsRoot: false,
          },
          {
            name: 'test',
            commands: ['npm test -- --reporter=junit --outputFile=reports/junit.xml'],
            needs: ['install'],
            runner: 'auto',
            resources: { cpu: 1, memoryMiB: 4096, diskMiB: 512 },
            explicit: { cpu: true, memory: true, disk: false },
            timeoutSeconds: 600,
            env: { CI: 'true', NODE_OPTIONS: '--max-old-space-size=1536', NODE_ENV: 'test', SHARDS: '4' },
            secrets: {},
            artifacts: ['reports/*.xml'],
            spot: false,
            architecture: 'arm64',
            runAsRoot: false,
          },
          {
            name: 'build-image',
            commands: ['npm run build', 'tar czf dist.tgz dist'],
            needs: ['lint', 'test'],
            runner: 'fargate',
            image: 'public.ecr.aws/docker/library/node:22',
            resources: { cpu: 4, memoryMiB: 8192, diskMiB: 30720 },
            explicit: { cpu: true, memory: true, disk: true },
            timeoutSeconds: 5400,
            env: { CI: 'true', NODE_OPTIONS: '--max-old-space-size=1536' },
            secrets: {},
            artifacts: ['dist.tgz'],
            spot: true,
            architecture: 'x86_64',
            runAsRoot: true,
          },
          {
            name: 'deploy',
            commands: ['./scripts/deploy.sh dist.tgz'],
            needs: ['build-image'],
            runner: 'auto',
            resources: { cpu: 1, memoryMiB: 2048, diskMiB: 512 },
            explicit: { cpu: true, memory: true, disk: false },
            timeoutSeconds: 600,
            env: { CI: 'true', NODE_OPTIONS: '--max-old-space-size=1536' },
            secrets: {
              NPM_TOKEN: { source: 'ssm', id: '/ci/npm-token', raw: 'ssm:/ci/npm-token' },
              DB_PASSWORD: { source: 'secretsmanager', id: 'ci/database', jsonKey: 'password', raw: 'secretsmanager:ci/database#password' },
            },
            artifacts: [],
            spot: false,
            architecture: 'arm64',
            if: { events: ['push'], branches: ['main', 'release/*'] },
            runAsRoot: false,
          },
        ],
      };
      expect(pipeline).toEqual(expected);
    });
  });

  describe('defaults', () => {
    it('gives a bare stage 1 vCPU, 2 GiB, 512 MiB, 10 minutes, auto, x86_64, and marks nothing explicit', () => {
      // Act
      const [stage] = parsePipeline(lines('version: 1', 'stages:', '  build:', '    commands: [make]')).stages;

      // Assess
      expect(stage.resources).toEqual({ cpu: 1, memoryMiB: 2048, diskMiB: 512 });
      expect(stage.explicit).toEqual({ cpu: false, memory: false, disk: false });
      expect(stage.timeoutSeconds).toBe(600);
      expect(stage.runner).toBe('auto');
      expect(stage.architecture).toBe('x86_64');
      expect(stage.spot).toBe(false);
      expect(stage.runAsRoot).toBe(false);
      expect(stage.image).toBeUndefined();
      expect(stage.if).toBeUndefined();
    });

    it('builds on push and pull_request to every branch when "on" is absent', () => {
      // Act
      const pipeline = parsePipeline(lines('version: 1', 'stages:', '  build: { commands: [make] }'));

      // Assess
      expect(pipeline.on).toEqual({ push: {}, pull_request: {} });
      expect(pipeline.failFast).toBe(false);
      expect(pipeline.cancelSuperseded).toBe(false);
    });

    it('lets a stage override single resource fields and marks the ones set anywhere as explicit', () => {
      // Prepare
      const text = lines(
        'version: 1',
        'defaults:',
        '  resources: { disk: 4GiB }',
        '  runner: fargate',
        '  image: node:22',
        '  env: { A: from-defaults, B: from-defaults }',
        'stages:',
        '  build:',
        '    commands: [make]',
        '    resources: { memory: 3GiB }',
        '    env: { B: from-stage }',
      );

      // Act
      const [stage] = parsePipeline(text).stages;

      // Assess
      expect(stage.resources).toEqual({ cpu: 1, memoryMiB: 3072, diskMiB: 4096 });
      expect(stage.explicit).toEqual({ cpu: false, memory: true, disk: true });
      expect(stage.runner).toBe('fargate');
      expect(stage.image).toBe('node:22');
      expect(stage.env).toEqual({ A: 'from-defaults', B: 'from-stage' });
    });

    it('reads log-limit in bytes from a stage or defaults, and leaves it out when neither sets it', () => {
      // Act
      const stages = parsePipeline(
        lines('version: 1', 'defaults:', '  log-limit: 8MiB', 'stages:', '  a: { commands: [make] }', '  b: { commands: [make], log-limit: 1GiB }'),
      ).stages;
      const [bare] = parsePipeline(lines('version: 1', 'stages:', '  a: { commands: [make] }')).stages;

      // Assess
      expect(stages.map((s) => s.logLimitBytes)).toEqual([8 * 1024 * 1024, 1024 * 1024 * 1024]);
      expect(bare.logLimitBytes).toBeUndefined();
    });
  });

  describe('shorthands', () => {
    it('accepts a single string for commands, needs, artifacts and if fields', () => {
      // Prepare
      const text = lines(
        'version: 1',
        'stages:',
        '  a: { commands: make }',
        '  b:',
        '    commands: make test',
        '    needs: a',
        '    artifacts: out/**',
        '    if: { event: pull_request, branch: main }',
      );

      // Act
      const [, b] = parsePipeline(text).stages;

      // Assess
      expect(b.commands).toEqual(['make test']);
      expect(b.needs).toEqual(['a']);
      expect(b.artifacts).toEqual(['out/**']);
      expect(b.if).toEqual({ events: ['pull_request'], branches: ['main'] });
    });

    it('accepts "on: push" and "on: [push, pull_request]" as in GitHub Actions', () => {
      const stages = ['stages:', '  a: { commands: [x] }'];
      expect(parsePipeline(lines('version: 1', 'on: push', ...stages)).on).toEqual({ push: {} });
      expect(parsePipeline(lines('version: 1', 'on: [push, pull_request]', ...stages)).on).toEqual({ push: {}, pull_request: {} });
      expect(parsePipeline(lines('version: 1', 'on: { pull_request: }', ...stages)).on).toEqual({ pull_request: {} });
    });

    it('keeps numbers and booleans in env and commands as written', () => {
      // Prepare
      const text = lines('version: 1', 'stages:', '  a:', '    commands: [true, 42]', '    env: { V: 1.10, DEBUG: false, HEX: 0x1F }');

      // Act
      const [stage] = parsePipeline(text).stages;

      // Assess
      expect(stage.commands).toEqual(['true', '42']);
      expect(stage.env).toEqual({ V: '1.10', DEBUG: 'false', HEX: '0x1F' });
    });

    it('follows YAML anchors and aliases for values', () => {
      // Prepare
      const text = lines('version: 1', 'stages:', '  a:', '    commands: &steps [make, make test]', '  b:', '    commands: *steps');

      // Act
      const [, b] = parsePipeline(text).stages;

      // Assess
      expect(b.commands).toEqual(['make', 'make test']);
    });
  });

  describe('reporting', () => {
    it('reports every issue in the file at once, in position order, with file, line, column and path', () => {
      // Prepare
      const text = lines(
        'version: 1',
        'stages:',
        '  build:',
        '    commands: [make]',
        '    runner: docker',
        '    timeout: soon',
        '  test:',
        '    needs: biuld',
        '    commands: [make test]',
        '    spot: yes',
      );

      // Act
      const issues = issuesOf(text, 'ci/.buildfarm.yml');

      // Assess
      expect(issues.map(formatIssue)).toEqual([
        'ci/.buildfarm.yml:5:13 stages.build.runner: expected one of auto, lambda, fargate, got "docker"',
        'ci/.buildfarm.yml:6:14 stages.build.timeout: expected a duration such as 90s, 10m, 2h or 1h30m (a plain number is seconds), got "soon"',
        'ci/.buildfarm.yml:8:12 stages.test.needs: stage "test" needs "biuld", which is not a stage; known stages: build, test',
        'ci/.buildfarm.yml:10:11 stages.test.spot: expected true or false, got "yes"',
      ]);
    });

    it('makes the error message the formatted issue list, with no stack trace', () => {
      // Prepare
      let caught: unknown;

      // Act
      try {
        parsePipeline(lines('version: 1', 'stages:', '  a: { comands: [x] }'));
      } catch (error) {
        caught = error;
      }

      // Assess
      expect(caught).toBeInstanceOf(PipelineInvalid);
      const error = caught as PipelineInvalid;
      expect(error.name).toBe('PipelineInvalid');
      expect(error.message).toBe(error.issues.map(formatIssue).join('\n'));
      expect(error.message).not.toMatch(/\n\s+at /);
      expect(error.issues.map(short)).toEqual([
        '3:8 stages.a.comands: unknown key "comands" (did you mean "commands"?); allowed keys: commands, needs, runner, image, resources, timeout, env, secrets, artifacts, spot, architecture, if, run-as-root, log-limit, cache',
      ]);
    });

    it('lists the allowed keys without a guess when nothing is close', () => {
      expect(issuesOf(lines('version: 1', 'colour: red', 'stages:', '  a: { commands: [x] }')).map(short)).toEqual([
        '2:1 colour: unknown key "colour"; allowed keys: version, on, fail-fast, cancel-superseded, optimize, cost, defaults, stages',
      ]);
    });

    it('reports unknown keys in defaults, resources, on filters and if', () => {
      // Prepare
      const text = lines(
        'version: 1',
        'on: { push: { branch: [main] } }',
        'defaults: { spot: true, resources: { ram: 1GiB } }',
        'stages:',
        '  a: { commands: [x], if: { events: push } }',
      );

      // Act
      const paths = issuesOf(text).map((issue) => issue.path);

      // Assess
      expect(paths).toEqual(['on.push.branch', 'defaults.spot', 'defaults.resources.ram', 'stages.a.if.events']);
    });

    it('refuses an "on" that lists no events, since nothing would ever build', () => {
      const stages = ['stages:', '  a: { commands: [x] }'];
      for (const on of ['on:', 'on: {}']) {
        expect(issuesOf(lines('version: 1', on, ...stages)).map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
          'on: lists no events, so nothing would ever build; list push and/or pull_request, or remove "on" to build on both',
        ]);
      }
    });

    it('requires version and stages, and says what to add', () => {
      expect(issuesOf('on: push\n').map(short)).toEqual([
        '1:1 version: missing; add "version: 1" (the only format version)',
        '1:1 stages: missing; add "stages:" with at least one stage',
      ]);
    });

    it('rejects an empty file, a root that is not a mapping, and stages written as a list', () => {
      expect(issuesOf('').map((issue) => issue.message)).toEqual(['the file is empty; a pipeline file needs at least "version: 1" and "stages"']);
      expect(issuesOf('- a\n- b\n').map((issue) => issue.message)[0]).toMatch(/^expected a mapping with version, on, .*, got a list$/);
      expect(issuesOf(lines('version: 1', 'stages:', '  - name: build', '    commands: [x]')).map(short)).toEqual([
        '3:3 stages: expected a mapping of stage name to stage (stages:\\n  build:\\n    commands: [...]), got a list',
      ]);
    });

    it('reports YAML syntax errors with their position', () => {
      // Act
      const issues = issuesOf(lines('version: 1', 'stages:', '  build:', '    commands: [make', '  test: {'), 'p.yml');

      // Assess
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0].file).toBe('p.yml');
      expect(issues[0].line).toBeGreaterThanOrEqual(4);
      expect(issues[0].message).toMatch(/^YAML: /);
    });

    it('refuses more than one YAML document', () => {
      expect(issuesOf(lines('version: 1', '---', 'version: 1')).map((issue) => issue.message)[0]).toMatch(/^YAML: .*multiple documents/i);
    });
  });

  describe('hostile input', () => {
    it('refuses a billion-laughs alias bomb with one clear issue', () => {
      // Prepare: nine levels of ten aliases each expand to 10^9 strings
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let level = 1; level < 9; level++) {
        const previous = String.fromCharCode(96 + level);
        const name = String.fromCharCode(97 + level);
        levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(',')}]`);
      }
      const text = lines('version: 1', ...levels, 'stages:', '  x: { commands: *i }');

      // Act
      const issues = issuesOf(text);

      // Assess
      expect(issues).toHaveLength(1);
      expect(issues[0].message).toBe(
        'aliases expand into too many nodes (more than 100); the farm refuses alias expansion attacks ("billion laughs"); write the values out or use "defaults"',
      );
      expect(issues[0].line).toBe(3);
    });

    it('refuses flow collections nested deeper than 64 levels, pointing at the first one too deep', () => {
      // Prepare: 100,000 levels would exhaust yaml's recursion and memory
      const text = `version: 1\nstages: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;

      // Act
      const issues = issuesOf(text);

      // Assess
      expect(issues.map(short)).toEqual(['2:73 collections are nested more than 64 levels deep; a pipeline file needs far fewer']);
    });

    it('reads a block document nested 50 levels deep and reports the unknown key', () => {
      // Prepare: 50 levels of block mappings under a stage
      const nested = Array.from({ length: 50 }, (_, depth) => `${' '.repeat(4 + depth * 2)}k${depth}:`).join('\n');
      const text = lines('version: 1', 'stages:', '  a:', '    commands: [x]', '    extra:', nested.replace(/^ {4}/, '      ') + ' end');

      // Act
      const issues = issuesOf(text);

      // Assess
      expect(issues.map((issue) => issue.path)).toEqual(['stages.a.extra']);
    });

    it('refuses block mappings nested deeper than 64 levels, pointing at the line that goes too deep', () => {
      // Prepare: 300 levels, one more indentation step per line (line 6 is k0)
      const nested = Array.from({ length: 300 }, (_, depth) => `${' '.repeat(6 + depth * 2)}k${depth}:`).join('\n');
      const text = lines('version: 1', 'stages:', '  a:', '    commands: [x]', '    extra:', nested + ' end');

      // Act
      const issues = issuesOf(text);

      // Assess: stages, a and extra are three levels, so k61 (line 67) is the 65th; its colon is at column 132
      expect(issues.map(short)).toEqual(['67:132 collections are nested more than 64 levels deep; a pipeline file needs far fewer']);
    });

    it('accepts a flow mapping of many keys on one line (its colons are not nesting)', () => {
      // Prepare: 200 variables in one flow mapping
      const env = Array.from({ length: 200 }, (_, i) => `V${i}: "${i}"`).join(', ');
      const text = lines('version: 1', 'stages:', '  a:', '    commands: [x]', `    env: { ${env} }`);

      // Act
      const pipeline = parsePipeline(text);

      // Assess
      expect(pipeline.stages[0]?.env.V199).toBe('199');
    });

    it('refuses a file over 1 MiB before parsing it', () => {
      // Prepare: a valid pipeline padded with a long comment
      const text = lines('version: 1', 'stages:', '  a: { commands: [x] }', `# ${'x'.repeat(1024 * 1024)}`);

      // Act
      const issues = issuesOf(text);

      // Assess
      expect(issues.map(short)).toEqual([`1:1 the file is ${new TextEncoder().encode(text).length} bytes; a pipeline file may be at most 1048576 bytes (1 MiB)`]);
    });

    it('counts the size limit in bytes, not characters', () => {
      // Prepare: 400,000 three-byte characters are 1.2 MB
      const text = lines('version: 1', 'stages:', `  a: { commands: ["echo ${'€'.repeat(400_000)}"] }`);

      // Act
      const issues = issuesOf(text);

      // Assess
      expect(issues[0].message).toMatch(/at most 1048576 bytes/);
    });
  });
});

describe('Function: readPipeline', () => {
  it('still builds a best-effort pipeline when fields are wrong, so lint can run too', () => {
    // Act
    const reading = readPipeline(lines('version: 1', 'stages:', '  a: { commands: [x], timeout: never, needs: zz }'));

    // Assess
    expect(reading.issues.map((issue) => issue.path)).toEqual(['stages.a.timeout']);
    expect(reading.pipeline?.stages[0].timeoutSeconds).toBe(600);
    expect(reading.pipeline?.stages[0].needs).toEqual(['zz']);
  });
});

describe('Function: parsePipeline (pathological YAML)', () => {
  it('refuses compact block nesting too deep for the YAML parser as one clear issue, whatever the state of the process', () => {
    // Prepare: compact nested sequences take two bytes per level
    const text = lines('version: 1', 'stages:', '  a:', '    commands:', `      ${'- '.repeat(20_000)}x`);

    // Act
    const issues = issuesOf(text);

    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toBe('collections are nested more than 64 levels deep; a pipeline file needs far fewer');
    expect(issues[0].line).toBe(5);
  });

  it('stops listing YAML errors after 20 and says how many more there are', () => {
    // Prepare: every "- a:" on the key's line is a separate syntax error
    const text = `version: 1\nx: ${'- a: '.repeat(100)}x\n`;

    // Act
    const issues = issuesOf(text);

    // Assess
    expect(issues).toHaveLength(21);
    expect(issues[20].message).toMatch(/^\.\.\. and \d+ more YAML errors; fix the first ones and validate again$/);
  });
});

describe('Function: parsePipelineWithSites', () => {
  it('locates stage fields, inherited ones at their defaults line, and unknown ones at the nearest parent', () => {
    // Prepare
    const text = lines('version: 1', 'defaults:', '  runner: lambda', 'stages:', '  build:', '    commands: [make]', '    timeout: 5m');

    // Act
    const { sites } = parsePipelineWithSites(text, 'p.yml');

    // Assess
    expect(sites.locate('stages.build.timeout')).toEqual({ file: 'p.yml', line: 7, column: 14 });
    expect(sites.locate('stages.build.runner')).toEqual({ file: 'p.yml', line: 3, column: 11 });
    expect(sites.locate('stages.build.resources.disk')).toEqual({ file: 'p.yml', line: 5, column: 3 });
  });
});
