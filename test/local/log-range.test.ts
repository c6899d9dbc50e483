import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { stageLogKey } from '../../functions/domain/storage-keys.js';
import { parseRangeHeader, resolveRange } from '../../functions/local/byte-range.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { pushRequest, startTestFarm, type TestFarm } from './support/test-farm.js';

describe('Function: parseRangeHeader / resolveRange', () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-', { start: 100 }],
    ['bytes=-500', { suffix: 500 }],
    ['bytes=10-5', undefined],
    ['bytes=0-1,5-9', undefined],
    ['items=0-1', undefined],
    [undefined, undefined],
  ])('%s parses as %j', (header, expected) => {
    expect(parseRangeHeader(header)).toEqual(expected);
  });

  it('resolves ranges against the size: clamps the end, takes a suffix from the end, and refuses a start past it', () => {
    expect(resolveRange({ start: 5, end: 1_000 }, 10)).toEqual({ start: 5, end: 9 });
    expect(resolveRange({ suffix: 3 }, 10)).toEqual({ start: 7, end: 9 });
    expect(resolveRange({ suffix: 30 }, 10)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ start: 10 }, 10)).toBeUndefined();
  });
});

describe('Method: S3ArtifactStore.read (against s3rver, a real S3 protocol server)', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    await store.put('logs/big.txt', Buffer.from('0123456789'.repeat(100_000)));
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('streams a range with its position and the object size, without reading the whole object', async () => {
    // Act
    const read = await store.read('logs/big.txt', { start: 999_990 });
    // Assess
    expect(read).not.toBe('unsatisfiable');
    const part = read as Exclude<typeof read, 'unsatisfiable' | undefined>;
    const chunks: Buffer[] = [];
    for await (const chunk of part.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('0123456789');
    expect(part.range).toEqual({ start: 999_990, end: 999_999 });
    expect(part.total).toBe(1_000_000);
  });

  it('says unsatisfiable for a range past the end, and undefined for a missing key', async () => {
    expect(await store.read('logs/big.txt', { start: 2_000_000 })).toBe('unsatisfiable');
    expect(await store.read('logs/none.txt')).toBeUndefined();
  });
});

describe('GET /api/builds/:id/stages/:stage/log with Range', () => {
  let farm: TestFarm;
  afterEach(async () => {
    await farm.close();
  });

  it('answers 206 with Content-Range for a range, 200 with Accept-Ranges whole, and 416 past the end', async () => {
    // Prepare
    farm = await startTestFarm();
    await farm.farm.start('r1', { buildId: 'r1', request: pushRequest() });
    await farm.farm.settled('r1');
    const whole = (await farm.artifacts.getText(stageLogKey('r1', 'build')))!;
    const url = `${farm.url}/api/builds/r1/stages/build/log`;
    // Act
    const full = await fetch(url);
    const tail = await fetch(url, { headers: { range: 'bytes=-5' } });
    const past = await fetch(url, { headers: { range: `bytes=${whole.length + 10}-` } });
    // Assess
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(await full.text()).toBe(whole);
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes ${whole.length - 5}-${whole.length - 1}/${whole.length}`);
    expect(await tail.text()).toBe(whole.slice(-5));
    expect(past.status).toBe(416);
  });
});
