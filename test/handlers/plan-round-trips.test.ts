/**
 * The Plan task's S3 round trips that need not follow one another go at once (issue 12: every
 * build's plan, on AWS as locally): the stage histories load while the snapshot is stored, and the
 * plan is stored beside its slices. Each test holds one request until the other has been made, so
 * the old order (one after the other) never finishes.
 */
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { planKey, sourceKey, stagePlanKey } from '../../functions/domain/storage-keys.js';
import { planTask, type PlanTaskDeps } from '../../functions/handlers/plan.js';
import { REQUEST, tarball } from '../statemachine/support/farm.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b';
const PIPELINE = 'version: 1\non:\n  push: {}\nstages:\n  build:\n    commands: [make]\n  test:\n    needs: [build]\n    commands: [make test]\n';
const INPUT = { buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN };

/** A store whose PUT of `heldKey` finishes only once `release` has seen a request it waits for. */
class GatedStore extends MemoryStore {
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  readonly order: string[] = [];

  constructor(
    private readonly heldKey: string,
    private readonly opensOn: (kind: 'get' | 'put', key: string) => boolean,
    private readonly failHeld?: Error,
  ) {
    super();
  }

  override async put(key: string, body: Readable | Buffer | string): Promise<void> {
    this.order.push(`put ${key}`);
    if (this.opensOn('put', key)) this.open();
    if (key === this.heldKey) {
      await this.opened;
      if (this.failHeld) throw this.failHeld;
    }
    await super.put(key, body);
  }

  override async getText(key: string): Promise<string | undefined> {
    this.order.push(`get ${key}`);
    if (this.opensOn('get', key)) this.open();
    return super.getText(key);
  }
}

function depsFor(store: MemoryStore, extra: Partial<PlanTaskDeps> = {}): PlanTaskDeps {
  return {
    store,
    source: { snapshot: () => tarball({ '.buildfarm.yml': PIPELINE }) },
    config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
    prices: DEFAULT_PRICE_BOOK,
    ...extra,
  };
}

describe('Plan task: round trips at once', () => {
  it('loads the stage histories while the source snapshot is still being stored', async () => {
    // Prepare: the snapshot's PUT waits for a history read
    const store = new GatedStore(sourceKey('b'), (kind, key) => kind === 'get' && key.startsWith('history/'));

    // Act
    const output = await planTask(INPUT, depsFor(store));

    // Assess
    expect(output.build).toBe(true);
    expect(store.objects.has(sourceKey('b'))).toBe(true);
    expect(store.order.findIndex((entry) => entry.startsWith('get history/'))).toBeGreaterThan(store.order.indexOf(`put ${sourceKey('b')}`));
  });

  it('fails with the snapshot upload\'s error, after the histories were read', async () => {
    // Prepare
    const refused = new Error('S3 said no to the snapshot');
    const store = new GatedStore(sourceKey('b'), (kind) => kind === 'get', refused);

    // Act
    const outcome = await planTask(INPUT, depsFor(store)).catch((error: unknown) => error);

    // Assess: no plan stored for a build whose source is not there
    expect(outcome).toBe(refused);
    expect(store.objects.has(planKey('b'))).toBe(false);
  });

  it('stores the plan while its stage slices are stored', async () => {
    // Prepare: the plan's PUT waits for a slice's PUT
    const store = new GatedStore(planKey('b'), (kind, key) => kind === 'put' && key === stagePlanKey(planKey('b'), 'test'));

    // Act
    const output = await planTask(INPUT, depsFor(store));

    // Assess
    expect(output.build).toBe(true);
    expect(store.json<Plan>(planKey('b'))!.stages.map((stage) => stage.name)).toEqual(['build', 'test']);
    expect(store.json(stagePlanKey(planKey('b'), 'build'))).toBeDefined();
  });

  it('fails with a slice\'s error only once the plan is stored (the report reads the plan of a failed Plan step)', async () => {
    // Prepare: the plan's PUT is slow, a slice's fails at once
    const refused = new Error('S3 said no to a slice');
    const store = new (class extends MemoryStore {
      override async put(key: string, body: Readable | Buffer | string): Promise<void> {
        if (key === planKey('b')) await new Promise((resolve) => setTimeout(resolve, 100));
        if (key === stagePlanKey(planKey('b'), 'test')) throw refused;
        await super.put(key, body);
      }
    })();

    // Act
    const outcome = await planTask(INPUT, depsFor(store)).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBe(refused);
    expect(store.objects.has(planKey('b'))).toBe(true);
  });

  it('hands the stored plan to onPlanned before it returns, so nobody reads it back', async () => {
    // Prepare
    const store = new MemoryStore();
    const heard: Plan[] = [];

    // Act
    await planTask(INPUT, depsFor(store, { onPlanned: (plan) => heard.push(plan) }));

    // Assess
    expect(heard).toEqual([store.json<Plan>(planKey('b'))]);
  });

  it('does not call onPlanned for a build that does not run', async () => {
    // Prepare: a pull request this pipeline does not build
    const store = new MemoryStore();
    const heard: Plan[] = [];
    const deps = depsFor(store, { onPlanned: (plan) => heard.push(plan), source: { snapshot: () => tarball({ '.buildfarm.yml': PIPELINE.replace('push: {}', 'pull_request: {}') }) } });

    // Act
    const output = await planTask(INPUT, deps);

    // Assess: the snapshot is stored all the same
    expect(output.build).toBe(false);
    expect(heard).toEqual([]);
    expect(store.objects.has(sourceKey('b'))).toBe(true);
  });
});
