import {
  ClientException,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcsTaskDefinitions } from '../../functions/adapters/aws/ecs-task-definitions.js';
import { HelperBundleStore } from '../../functions/adapters/aws/helper-bundle-store.js';
import { FAMILY_MAX_LENGTH, isValidFamily, taskDefinitionFamily } from '../../functions/domain/fargate/family.js';
import { MAX_OVERRIDES_CHARACTERS } from '../../functions/domain/fargate/overrides.js';
import { buildTaskDefinition, type TaskSettings } from '../../functions/domain/fargate/task-definition.js';
import type { Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import {
  prepareFargateTask,
  type FargatePrepareDeps,
  type FargatePrepareInput,
} from '../../functions/handlers/fargate-prepare.js';

const ecsMock = mockClient(ECSClient);
const s3Mock = mockClient(S3Client);

const settings: TaskSettings = {
  region: 'eu-west-1',
  bucket: 'buildfarm-artifacts-123',
  executionRoleArn: 'arn:aws:iam::123456789012:role/buildfarm-TaskExecutionRole',
  taskRoleArn: 'arn:aws:iam::123456789012:role/buildfarm-TaskRole',
  logGroup: '/buildfarm/tasks',
  stageCredentialsFunction: 'arn:aws:lambda:eu-west-1:123456789012:function:buildfarm-StageCredentials',
  helperImage: 'public.ecr.aws/docker/library/node:22-slim',
};

const helperCode = Buffer.from('module.exports = "helper";');

const PLAN_KEY = 'builds/72d4c4f0-9f5e-11ef-8c1a-8a0b1f2e3d4c/plan.json';
const MAVEN = 'public.ecr.aws/docker/library/maven:3-eclipse-temurin-21';
let plans: Map<string, string>;

function plannedStage(overrides: Partial<PlannedStage> = {}): PlannedStage {
  return {
    name: 'test',
    wave: 0,
    runner: 'fargate',
    reason: 'Fargate: it sets an image',
    timeoutSeconds: 1800,
    needs: [],
    upstream: [],
    commands: ['mvn -B verify'],
    env: { MAVEN_OPTS: '-Xss4m' },
    secrets: {},
    artifacts: ['target/*.jar'],
    image: MAVEN,
    runAsRoot: false,
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    predictedDurationSeconds: 300,
    predictedFrom: 'timeout',
    predictedCostUsd: 0.01,
    ...overrides,
  };
}

/** Stores a plan holding the stage, as the plan task does before the state machine reaches Fargate. */
function givenStage(overrides: Partial<PlannedStage> = {}): PlannedStage {
  const stage = plannedStage(overrides);
  const plan: Plan = {
    version: 1,
    waves: [[stage.name]],
    stages: [stage],
    skipped: [],
    failFast: false,
    cancelSuperseded: false,
    region: 'eu-west-1',
    predictedCostUsd: stage.predictedCostUsd,
    secretsWithheld: false,
  };
  plans.set(PLAN_KEY, JSON.stringify(plan));
  return stage;
}

const EVENTS = resolve(import.meta.dirname, '../../events');

/** The state's input as in events/ (also used by `sam local invoke -e`), cloned per test. */
function event(name: string): FargatePrepareInput {
  return JSON.parse(readFileSync(join(EVENTS, name), 'utf8')) as FargatePrepareInput;
}

function input(overrides: Partial<FargatePrepareInput> = {}): FargatePrepareInput {
  return { ...event('fargate-prepare.json'), ...overrides };
}

function deps(): FargatePrepareDeps {
  return {
    taskDefinitions: new EcsTaskDefinitions(new ECSClient({ region: 'eu-west-1' }), {
      retryDelaysMs: [1, 1, 1],
      sleep: async () => {},
    }),
    helperBundles: new HelperBundleStore(new S3Client({ region: 'eu-west-1' }), settings.bucket),
    store: { getText: async (key) => plans.get(key) },
    settings,
    helperCode: async () => helperCode,
  };
}

function arn(family: string, revision: number): string {
  return `arn:aws:ecs:eu-west-1:123456789012:task-definition/${family}:${revision}`;
}

function describeFinds(family: string, revision: number) {
  ecsMock.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: { taskDefinitionArn: arn(family, revision), family, revision, status: 'ACTIVE' },
  });
}

function describeMisses() {
  ecsMock
    .on(DescribeTaskDefinitionCommand)
    .rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
}

const expectedFamily = buildTaskDefinition(settings, {
  image: MAVEN,
  architecture: 'x86_64',
  runAsRoot: false,
}).family;

beforeEach(() => {
  plans = new Map();
  givenStage();
  ecsMock.reset();
  s3Mock.reset();
  s3Mock.on(HeadObjectCommand).resolves({});
});

describe('Function: prepareFargateTask', () => {
  describe('task definition reuse', () => {
    it('reuses the ACTIVE revision Describe finds and registers nothing', async () => {
      // Prepare
      describeFinds(expectedFamily, 3);

      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      expect(output.taskDefinitionArn).toBe(arn(expectedFamily, 3));
      expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input).toEqual({
        taskDefinition: expectedFamily,
      });
      expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    });

    it('registers when the family has no ACTIVE revision, with the exact request shape', async () => {
      // Prepare
      describeMisses();
      ecsMock.on(RegisterTaskDefinitionCommand).callsFake((request) => ({
        taskDefinition: { taskDefinitionArn: arn(request.family, 1), family: request.family, revision: 1, status: 'ACTIVE' },
      }));
      ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [arn(expectedFamily, 1)] });

      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      expect(output.taskDefinitionArn).toBe(arn(expectedFamily, 1));
      const request = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
      expect(Object.keys(request).sort()).toEqual(
        [
          'containerDefinitions',
          'cpu',
          'executionRoleArn',
          'family',
          'memory',
          'networkMode',
          'requiresCompatibilities',
          'runtimePlatform',
          'taskRoleArn',
          'volumes',
        ].sort(),
      );
      expect(request).toMatchObject({
        family: expectedFamily,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
        executionRoleArn: settings.executionRoleArn,
        taskRoleArn: settings.taskRoleArn,
        volumes: [{ name: 'workspace' }, { name: 'buildfarm' }, { name: 'buildfarm-logs' }, { name: 'buildfarm-home' }, { name: 'buildfarm-usage' }],
      });
      const [fetch, build, liveLog, publish] = request.containerDefinitions!;
      expect(fetch).toMatchObject({ name: 'fetch', image: settings.helperImage, essential: false });
      expect(build).toMatchObject({
        name: 'build',
        image: MAVEN,
        essential: false,
        entryPoint: ['sh', '-c'],
        dependsOn: [{ containerName: 'fetch', condition: 'SUCCESS' }],
      });
      expect(publish).toMatchObject({
        name: 'publish',
        image: settings.helperImage,
        essential: true,
        dependsOn: [{ containerName: 'build', condition: 'COMPLETE' }],
      });
      // The live log: our helper image, no credentials, the logs read-only, alongside the build.
      expect(liveLog).toMatchObject({
        name: 'live-log',
        image: settings.helperImage,
        essential: false,
        environment: [{ name: 'BUILDFARM_HELPER_MODE', value: 'live-log' }],
        dependsOn: [{ containerName: 'fetch', condition: 'SUCCESS' }],
      });
      expect(liveLog.mountPoints).toEqual([
        { sourceVolume: 'buildfarm', containerPath: '/buildfarm', readOnly: true },
        { sourceVolume: 'buildfarm-logs', containerPath: '/buildfarm-logs', readOnly: true },
        { sourceVolume: 'buildfarm-usage', containerPath: '/buildfarm-usage', readOnly: false },
      ]);
      // What live-log measured of the build is out of the build container's reach; publish only reads it.
      expect(build.mountPoints!.map((m) => m.sourceVolume)).not.toContain('buildfarm-usage');
      expect(publish.mountPoints).toContainEqual({ sourceVolume: 'buildfarm-usage', containerPath: '/buildfarm-usage', readOnly: true });
      for (const container of request.containerDefinitions!) {
        expect(container.logConfiguration).toEqual({
          logDriver: 'awslogs',
          options: { 'awslogs-group': '/buildfarm/tasks', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'stage' },
        });
      }
      for (const container of [fetch, build, publish]) {
        expect(container.mountPoints).toContainEqual({
          sourceVolume: 'workspace',
          containerPath: '/workspace',
          readOnly: false,
        });
      }
      // The build container may read the helper volume but never change the publish helper's code.
      expect(build.mountPoints).toContainEqual({ sourceVolume: 'buildfarm', containerPath: '/buildfarm', readOnly: true });
      expect(ecsMock.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(0);
    });

    it('registers ARM64 task definitions for arm64 stages under another family', async () => {
      // Prepare
      describeMisses();
      ecsMock.on(RegisterTaskDefinitionCommand).callsFake((request) => ({
        taskDefinition: { taskDefinitionArn: arn(request.family, 1), family: request.family, revision: 1, status: 'ACTIVE' },
      }));
      ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });

      // Act
      givenStage({ fargate: { ...plannedStage().fargate, architecture: 'arm64' } });
      const output = await prepareFargateTask(input(), deps());

      // Assess
      const request = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
      expect(request.runtimePlatform).toEqual({ cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' });
      expect(output.family).not.toBe(expectedFamily);
    });
  });

  describe('racing builds', () => {
    it('uses the lower revision and deregisters its own when another build registered first', async () => {
      // Prepare: both builds missed on Describe; the other one's revision 1 landed before ours (2).
      describeMisses();
      ecsMock.on(RegisterTaskDefinitionCommand).resolves({
        taskDefinition: { taskDefinitionArn: arn(expectedFamily, 2), family: expectedFamily, revision: 2, status: 'ACTIVE' },
      });
      ecsMock.on(ListTaskDefinitionsCommand).resolves({
        taskDefinitionArns: [arn(`${expectedFamily}x`, 1), arn(expectedFamily, 1), arn(expectedFamily, 2)],
      });

      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      expect(output.taskDefinitionArn).toBe(arn(expectedFamily, 1));
      expect(ecsMock.commandCalls(ListTaskDefinitionsCommand)[0].args[0].input).toEqual({
        familyPrefix: expectedFamily,
        status: 'ACTIVE',
        sort: 'ASC',
        maxResults: 10,
      });
      const deregistered = ecsMock.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input);
      expect(deregistered).toEqual([{ taskDefinition: arn(expectedFamily, 2) }]);
    });

    it('keeps its own revision when it is the lowest', async () => {
      // Prepare
      describeMisses();
      ecsMock.on(RegisterTaskDefinitionCommand).resolves({
        taskDefinition: { taskDefinitionArn: arn(expectedFamily, 1), family: expectedFamily, revision: 1, status: 'ACTIVE' },
      });
      ecsMock.on(ListTaskDefinitionsCommand).resolves({
        taskDefinitionArns: [arn(expectedFamily, 1), arn(expectedFamily, 2)],
      });

      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess: the other build deregisters revision 2, not us.
      expect(output.taskDefinitionArn).toBe(arn(expectedFamily, 1));
      expect(ecsMock.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(0);
    });

    it('describes again and uses the other build’s revision when ECS refuses a concurrent registration', async () => {
      // Prepare
      ecsMock
        .on(DescribeTaskDefinitionCommand)
        .rejectsOnce(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }))
        .rejectsOnce(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }))
        .resolves({
          taskDefinition: {
            taskDefinitionArn: arn(expectedFamily, 1),
            family: expectedFamily,
            revision: 1,
            status: 'ACTIVE',
          },
        });
      ecsMock.on(RegisterTaskDefinitionCommand).rejects(
        new ClientException({
          message: 'Too many concurrent attempts to create a new revision of the specified family.',
          $metadata: {},
        }),
      );

      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      expect(output.taskDefinitionArn).toBe(arn(expectedFamily, 1));
      expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
      expect(ecsMock.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(0);
    });

    it('fails with TaskDefinitionUnavailable when the refused registration never shows up', async () => {
      // Prepare
      describeMisses();
      ecsMock
        .on(RegisterTaskDefinitionCommand)
        .rejects(new ClientException({ message: 'Too many concurrent attempts', $metadata: {} }));

      // Act
      const attempt = prepareFargateTask(input(), deps());

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'TaskDefinitionUnavailable' });
    });
  });

  describe('overrides', () => {
    beforeEach(() => describeFinds(expectedFamily, 1));

    it('sets CPU and memory as strings and leaves out storage at the 20 GiB default', async () => {
      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      expect(output.overrides.Cpu).toBe('1024');
      expect(output.overrides.Memory).toBe('2048');
      expect(output.overrides).not.toHaveProperty('EphemeralStorage');
      expect(output.overrides.ContainerOverrides.map((c) => c.Name)).toEqual(['fetch', 'build', 'live-log', 'publish']);
    });

    it('lets the live-log container print a stage without secrets, with the stage’s log-limit', async () => {
      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      const liveLog = output.overrides.ContainerOverrides.find((c) => c.Name === 'live-log')!;
      expect(liveLog.Environment).toEqual([{ Name: 'BUILDFARM_LOG_LIVE', Value: 'true' }]);

      // Prepare: a stage with a log-limit and a secret
      givenStage({ logLimitBytes: 2 * 1024 * 1024, secrets: { TOKEN: { source: 'secretsmanager', id: 'buildfarm/token', raw: 'secretsmanager:buildfarm/token' } } });
      const secret = await prepareFargateTask(input(), deps());

      // Assess: nothing live for a stage with secrets (CloudWatch cannot be masked), its cap passed on
      expect(secret.overrides.ContainerOverrides.find((c) => c.Name === 'live-log')!.Environment).toEqual([
        { Name: 'BUILDFARM_LOG_LIVE', Value: 'false' },
        { Name: 'BUILDFARM_LOG_LIMIT_BYTES', Value: String(2 * 1024 * 1024) },
      ]);
    });

    it('asks for ephemeral storage above 20 GiB', async () => {
      // Act
      givenStage({ fargate: { ...plannedStage().fargate, ephemeralStorageGiB: 120 } });
      const output = await prepareFargateTask(input(), deps());

      // Assess
      expect(output.overrides.EphemeralStorage).toEqual({ SizeInGiB: 120 });
    });

    it('refuses a storage size RunTask would reject, before registering anything', async () => {
      givenStage({ fargate: { ...plannedStage().fargate, ephemeralStorageGiB: 201 } });
      await expect(prepareFargateTask(input(), deps())).rejects.toMatchObject({ name: 'InvalidTaskSize' });
      expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    });

    it('tells the helpers where the plan and their code are', async () => {
      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      const fetch = output.overrides.ContainerOverrides.find((c) => c.Name === 'fetch')!;
      const values = Object.fromEntries(fetch.Environment.map((e) => [e.Name, e.Value]));
      expect(values).toMatchObject({
        BUILDFARM_BUILD_ID: '72d4c4f0-9f5e-11ef-8c1a-8a0b1f2e3d4c',
        BUILDFARM_STAGE: 'test',
        BUILDFARM_PLAN_KEY: PLAN_KEY,
      });
      expect(values.BUILDFARM_FROM_FORK).toBe('false');
      expect(values.BUILDFARM_HELPER_KEY).toMatch(/^helpers\/fargate-helper-[0-9a-f]{20}\.cjs$/);
    });

    it('stays within 8,192 characters whatever the size of commands and environment', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.string({ maxLength: 5000 }), { maxLength: 20 }),
          fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 5000 }), { maxKeys: 20 }),
          fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
          async (commands, env, stageName) => {
            // Commands and env stay in the plan in S3: however big, they never reach the overrides.
            givenStage({ name: stageName, commands, env });
            const output = await prepareFargateTask(input({ stageName }), deps());
            const json = JSON.stringify(output.overrides);
            expect(json.length).toBeLessThanOrEqual(MAX_OVERRIDES_CHARACTERS);
            for (const command of commands.filter((c) => c.length > 100)) expect(json).not.toContain(command);
          },
        ),
        { numRuns: 40 },
      );
    });

    it('refuses overrides above the limit with OverridesTooLarge instead of letting RunTask fail', async () => {
      // Act
      givenStage({ name: 's'.repeat(3000) });
      const attempt = prepareFargateTask(input({ stageName: 's'.repeat(3000) }), deps());

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'OverridesTooLarge' });
      expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    });
  });

  describe('capacity providers', () => {
    beforeEach(() => describeFinds(expectedFamily, 1));

    it('runs on FARGATE by default', async () => {
      const output = await prepareFargateTask(input(), deps());
      expect(output.capacityProvider).toBe('FARGATE');
    });

    it('runs on FARGATE_SPOT when the stage opted in', async () => {
      givenStage({ fargate: { ...plannedStage().fargate, spot: true } });
      const output = await prepareFargateTask(input(), deps());
      expect(output.capacityProvider).toBe('FARGATE_SPOT');
    });
  });

  describe('build container user', () => {
    function buildContainerOf(runAsRoot: boolean) {
      return buildTaskDefinition(settings, { image: 'alpine:3', architecture: 'x86_64', runAsRoot }).containerDefinitions[1];
    }

    it('runs as uid 65534 with HOME on the task\'s home volume (where the cache is restored) and JVM flags that follow the container memory by default', () => {
      const build = buildContainerOf(false);
      expect(build.user).toBe('65534:65534');
      expect(build.environment).toContainEqual({ name: 'HOME', value: '/buildfarm-home' });
      expect(build.mountPoints).toContainEqual({ sourceVolume: 'buildfarm-home', containerPath: '/buildfarm-home', readOnly: false });
      expect(build.environment).toContainEqual({ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0' });
    });

    it('runs as root only when the stage opted in, under a different family', () => {
      const root = buildTaskDefinition(settings, { image: 'alpine:3', architecture: 'x86_64', runAsRoot: true });
      const nonRoot = buildTaskDefinition(settings, { image: 'alpine:3', architecture: 'x86_64', runAsRoot: false });
      expect(root.containerDefinitions[1].user).toBe('0');
      // `~` is the same place for root stages: the helpers restore and save the cache there.
      expect(root.containerDefinitions[1].environment).toContainEqual({ name: 'HOME', value: '/buildfarm-home' });
      expect(root.family).not.toBe(nonRoot.family);
    });

    it('tells fetch which uid must own the workspace', () => {
      const fetchOf = (runAsRoot: boolean) =>
        buildTaskDefinition(settings, { image: 'alpine:3', architecture: 'x86_64', runAsRoot }).containerDefinitions[0];
      expect(fetchOf(false).environment).toContainEqual({ name: 'BUILDFARM_WORKSPACE_UID', value: '65534' });
      expect(fetchOf(true).environment).toContainEqual({ name: 'BUILDFARM_WORKSPACE_UID', value: '0' });
    });
  });

  describe('helper bundle', () => {
    beforeEach(() => describeFinds(expectedFamily, 1));

    it('uploads the helper under its content hash when the bucket does not have it yet', async () => {
      // Prepare
      s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: 'Not Found', $metadata: {} }));

      // Act
      const output = await prepareFargateTask(input(), deps());

      // Assess
      const helperKey = output.overrides.ContainerOverrides[0].Environment.find((e) => e.Name === 'BUILDFARM_HELPER_KEY')!.Value;
      const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
      expect(puts).toEqual([
        { Bucket: settings.bucket, Key: helperKey, Body: helperCode, ContentType: 'text/javascript' },
      ]);
    });

    it('does not upload again when the bucket has it', async () => {
      await prepareFargateTask(input(), deps());
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });

  it('tells the helpers when the build comes from a fork', async () => {
    describeFinds(expectedFamily, 1);
    const output = await prepareFargateTask(input({ fromFork: true }), deps());
    for (const name of ['fetch', 'publish']) {
      const container = output.overrides.ContainerOverrides.find((c) => c.Name === name)!;
      expect(container.Environment).toContainEqual({ Name: 'BUILDFARM_FROM_FORK', Value: 'true' });
    }
  });

  it('gives the grant token to the fetch and publish helpers only, never to the build container', async () => {
    // Prepare
    describeFinds(expectedFamily, 1);
    const grant = 'ab'.repeat(32);
    // Act
    const output = await prepareFargateTask(input({ grant }), deps());
    // Assess
    const grantOf = (name: string) => output.overrides.ContainerOverrides.find((c) => c.Name === name)!.Environment.find((e) => e.Name === 'BUILDFARM_GRANT')?.Value;
    expect(grantOf('fetch')).toBe(grant);
    expect(grantOf('publish')).toBe(grant);
    expect(grantOf('build')).toBeUndefined();
    expect(grantOf('live-log')).toBeUndefined();
    expect(JSON.stringify(output.overrides.ContainerOverrides.find((c) => c.Name === 'build'))).not.toContain(grant);
  });

  it('rejects an input without a grant as InvalidPrepareInput (the helpers would have no way to S3)', async () => {
    const attempt = prepareFargateTask({ ...input(), grant: undefined }, deps());
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidPrepareInput', message: expect.stringContaining('grant') });
  });

  it('rejects an input without a build id as InvalidPrepareInput', async () => {
    const attempt = prepareFargateTask({ ...input(), buildId: '' }, deps());
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidPrepareInput' });
  });

  it('rejects a stage the plan does not have as InvalidPrepareInput, registering nothing', async () => {
    const attempt = prepareFargateTask(input({ stageName: 'deploy' }), deps());
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidPrepareInput' });
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('runs a stage without an image (escalated from Lambda) on the Lambda Node.js 22 base image', async () => {
    // Prepare
    givenStage({ name: 'unit', image: undefined, runner: 'lambda' });
    describeMisses();
    ecsMock.on(RegisterTaskDefinitionCommand).callsFake((request) => ({
      taskDefinition: { taskDefinitionArn: arn(request.family, 1), family: request.family, revision: 1, status: 'ACTIVE' },
    }));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });

    // Act
    const output = await prepareFargateTask(event('fargate-prepare-escalated.json'), deps());

    // Assess
    expect(output.image).toBe('public.ecr.aws/lambda/nodejs:22');
    const request = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
    expect(request.containerDefinitions![1].image).toBe('public.ecr.aws/lambda/nodejs:22');
  });
});

describe('Function: taskDefinitionFamily', () => {
  it('is valid and stable for any image name, however hostile', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.jsonValue(), (image, content) => {
        const family = taskDefinitionFamily(image, content);
        expect(isValidFamily(family)).toBe(true);
        expect(family.length).toBeLessThanOrEqual(FAMILY_MAX_LENGTH);
        expect(family.startsWith('buildfarm-')).toBe(true);
        expect(taskDefinitionFamily(image, content)).toBe(family);
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order of object keys', () => {
    expect(taskDefinitionFamily('alpine:3', { a: 1, b: { c: 2, d: 3 } })).toBe(
      taskDefinitionFamily('alpine:3', { b: { d: 3, c: 2 }, a: 1 }),
    );
  });

  it('changes when the content changes', () => {
    expect(taskDefinitionFamily('alpine:3', { user: '65534' })).not.toBe(taskDefinitionFamily('alpine:3', { user: '0' }));
  });

  it('keeps the image readable', () => {
    expect(taskDefinitionFamily('public.ecr.aws/docker/library/maven:3-eclipse-temurin-21', {})).toMatch(
      /^buildfarm-maven-3-eclipse-temurin-21-[0-9a-f]{16}$/,
    );
  });
});
