import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildSummary } from '../../functions/local/build-record.js';
import type { BuildDetail } from '../../functions/local/build-service.js';
import type { WebhookHttpRequest } from '../../functions/local/server.js';
import { pushRequest, startTestFarm, type TestFarm } from './support/test-farm.js';

describe('Function: createFarmServer', () => {
  let farm: TestFarm;
  const webhookCalls: WebhookHttpRequest[] = [];

  beforeEach(async () => {
    webhookCalls.length = 0;
    farm = await startTestFarm({
      webhook: async (request) => {
        webhookCalls.push(request);
        return { statusCode: 202, headers: { 'x-test': 'yes' }, body: '{"status":"accepted"}' };
      },
    });
  });

  afterEach(async () => {
    await farm.close();
  });

  it('GET /api/builds lists builds as { id, repository, ref, sha, status, startedAt, durationMs, totalCostUsd }', async () => {
    // Prepare
    const request = pushRequest();
    await farm.farm.start('b1', { buildId: 'b1', request });
    const record = await farm.farm.settled('b1');
    // Act
    const response = await fetch(`${farm.url}/api/builds`);
    const builds = (await response.json()) as BuildSummary[];
    // Assess
    expect(response.status).toBe(200);
    expect(builds).toEqual([
      {
        id: 'b1',
        repository: request.repository,
        ref: request.ref,
        sha: request.sha,
        status: 'succeeded',
        startedAt: record.startedAt,
        durationMs: record.report!.durationMs,
        totalCostUsd: record.report!.totalCostUsd,
        event: 'push',
        title: request.message,
      },
    ]);
  });

  it('GET /api/builds/:id returns the full report, and 404 for an unknown build', async () => {
    // Prepare
    await farm.farm.start('b2', { buildId: 'b2', request: pushRequest() });
    const record = await farm.farm.settled('b2');
    // Act
    const found = await fetch(`${farm.url}/api/builds/b2`);
    const missing = await fetch(`${farm.url}/api/builds/nope`);
    // Assess
    const detail = (await found.json()) as BuildDetail;
    expect(detail.report).toEqual(record.report);
    expect(detail.plan?.waves).toEqual([['build', 'lint'], ['test'], ['package']]);
    expect(missing.status).toBe(404);
  });

  it('serves a stage log and an artifact from the artifact store', async () => {
    // Prepare
    await farm.farm.start('b3', { buildId: 'b3', request: pushRequest() });
    await farm.farm.settled('b3');
    // Act
    const log = await fetch(`${farm.url}/api/builds/b3/stages/build/log`);
    const artifact = await fetch(`${farm.url}/api/builds/b3/stages/package/artifacts/release/SHA256SUMS`);
    // Assess
    expect(await log.text()).toBe(await farm.artifacts.getText('builds/b3/stages/build/log.txt'));
    expect(artifact.headers.get('content-disposition')).toBe('attachment; filename="SHA256SUMS"');
    expect(await artifact.text()).toBe('abc  hello-farm.tar.gz\n');
  });

  it('GET /api/messages returns what the bus carried, by topic', async () => {
    // Prepare
    await farm.farm.start('b4', { buildId: 'b4', request: pushRequest() });
    await farm.farm.settled('b4');
    // Act
    const reports = await (await fetch(`${farm.url}/api/messages?topic=BuildReports`)).json();
    const wrongTopic = await fetch(`${farm.url}/api/messages?topic=Nope`);
    // Assess
    expect(reports).toEqual([expect.objectContaining({ topic: 'BuildReports', attributes: expect.objectContaining({ buildId: 'b4' }) })]);
    expect(wrongTopic.status).toBe(400);
  });

  it('passes POST /webhook raw bytes and headers to the webhook endpoint and returns its answer', async () => {
    // Prepare
    const body = Buffer.from('{"zen":"Keep it logically awesome."}\n');
    // Act
    const response = await fetch(`${farm.url}/webhook`, { method: 'POST', headers: { 'x-github-event': 'ping', 'content-type': 'application/json' }, body });
    // Assess
    expect(response.status).toBe(202);
    expect(response.headers.get('x-test')).toBe('yes');
    expect(webhookCalls[0].body.equals(body)).toBe(true);
    expect(webhookCalls[0].headers['x-github-event']).toBe('ping');
  });

  it('answers GET /webhook with 405', async () => {
    // Act
    const response = await fetch(`${farm.url}/webhook`);
    // Assess
    expect(response.status).toBe(405);
    expect(webhookCalls).toHaveLength(0);
  });

  it('serves the dashboard and never a file outside it', async () => {
    // Act
    const page = await fetch(`${farm.url}/`);
    const script = await fetch(`${farm.url}/app.js`);
    const escape = await rawGet(farm.url, '/../../../package.json');
    // Assess
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(escape.status).toBe(404);
  });

  it('streams a build event to /api/events subscribers when a build changes', async () => {
    // Prepare
    const controller = new AbortController();
    const response = await fetch(`${farm.url}/api/events`, { signal: controller.signal });
    const reader = response.body!.getReader();
    // Act
    await farm.farm.start('b5', { buildId: 'b5', request: pushRequest() });
    let text = '';
    while (!text.includes('event: build')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    // Assess
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(text).toMatch(/event: build\ndata: \{"id":"b5"/);
  });
});

/** fetch normalises `..` away; a raw request sends the path as written. */
function rawGet(base: string, path: string): Promise<{ status: number }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('error', reject);
    req.end();
  });
}
