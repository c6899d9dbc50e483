/**
 * Golden pairs: each pipeline in test/fixtures/plans/*.yml with the plan JSON the
 * planner must produce for it (push to main, us-east-1, 512 MB Lambda /tmp).
 * `UPDATE_GOLDEN=1 npx vitest run test/domain/plan/golden.test.ts` rewrites them after
 * a deliberate change; review the diff like code.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../../functions/domain/plan/planner.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';

const dir = path.resolve(import.meta.dirname, '../../fixtures/plans');
const cases = readdirSync(dir).filter((f) => f.endsWith('.yml')).map((f) => f.slice(0, -4));

describe('Golden: pipeline file -> plan JSON', () => {
  it('has fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of cases) {
    it(`plans ${name}.yml as ${name}.plan.json`, () => {
      const pipeline = parsePipeline(readFileSync(path.join(dir, `${name}.yml`), 'utf8'), `${name}.yml`);
      const historyFile = path.join(dir, `${name}.history.json`);
      const history = existsSync(historyFile) ? JSON.parse(readFileSync(historyFile, 'utf8')) : undefined;
      const plan = planPipeline(pipeline, { event: 'push', branch: 'main' }, { region: 'us-east-1', lambdaEphemeralStorageMB: 512 }, {
        prices: DEFAULT_PRICE_BOOK,
        history,
      });
      const golden = path.join(dir, `${name}.plan.json`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(golden, `${JSON.stringify(plan, null, 2)}\n`);
      expect(plan).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
    });
  }
});
