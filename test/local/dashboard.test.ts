import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildDetail } from '../../functions/local/build-service.js';
import { pushRequest, startTestFarm, type TestFarm } from './support/test-farm.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(process.cwd(), 'test-results', 'dashboard');

describe('Dashboard (headless Chromium)', () => {
  let farm: TestFarm;
  let browser: Browser;
  let finishedId: string;
  let runningId: string;

  beforeAll(async () => {
    // Prepare: one finished build and one held running, as a user would find them.
    farm = await startTestFarm({
      hold: { stage: 'package', buildId: 'octo-org_hello-farm-running' },
      fail: { stage: 'test', buildId: 'octo-org_hello-farm-failed' },
    });
    await mkdir(SCREENSHOTS, { recursive: true });
    finishedId = 'octo-org_hello-farm-finished';
    runningId = 'octo-org_hello-farm-running';
    await farm.farm.start(finishedId, { buildId: finishedId, request: pushRequest({ message: 'Add the farewell greeting' }) });
    await farm.farm.start(runningId, { buildId: runningId, request: pushRequest({ ref: 'refs/heads/feature/shout', branch: 'feature/shout', message: 'Shout the greeting' }) });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await farm?.close();
  });

  it('lists the builds with repository, ref, commit, status and cost', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    // Act
    await page.goto(`${farm.url}/`);
    await page.locator('table.builds tbody tr').nth(1).waitFor();
    // Assess
    const rows = page.locator('table.builds tbody tr');
    expect(await rows.count()).toBe(2);
    const text = await page.locator('table.builds').innerText();
    expect(text).toContain('octo-org/hello-farm');
    expect(text).toContain('feature/shout');
    expect(text).toContain('Running');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, 'build-list.png'), fullPage: true });
    await page.close();
  });

  it('shows a finished build with its stage graph, timeline, costs, artifacts and report message', async () => {
    // Prepare
    await farm.farm.settled(finishedId);
    const detail = (await (await fetch(`${farm.url}/api/builds/${finishedId}`)).json()) as BuildDetail;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Act
    await page.goto(`${farm.url}/#/builds/${finishedId}`);
    await page.locator('.stage-node').first().waitFor();
    // Assess: every stage in the graph and the timeline, a bar per started stage coloured by runner.
    for (const stage of detail.stages) {
      await expect.poll(() => page.locator(`.stage-node[data-stage="${stage.name}"]`).count()).toBe(1);
      expect(await page.locator(`.gantt-row[data-stage="${stage.name}"] .bar-${stage.runner}`).count()).toBe(1);
    }
    expect(await page.locator('.wave').count()).toBe(detail.plan!.waves.length);
    const costs = await page.locator('[data-section="runners and costs"]').innerText();
    const total = detail.report!.totalCostUsd;
    expect(await page.locator('.stats').innerText()).toContain(`$${total.toFixed(4)}`);
    expect(costs).toContain('Saved by running short stages on Lambda');
    // What each stage that ran measured: peak memory and CPU (the report's peakMemoryMiB and cpuUsage).
    const ran = detail.report!.stages.find((s) => s.status !== 'skipped' && s.cpuUsage)!;
    expect(await page.locator(`tr[data-stage="${ran.name}"] .usage`).innerText()).toBe(`peak 80 MiB · CPU 1.5 s, average ${ran.cpuUsage!.averageVcpu.toFixed(2)} / peak 0.90 vCPU`);
    const artifactLinks = page.locator('.artifacts a');
    expect(await artifactLinks.count()).toBe(detail.report!.stages.reduce((n, s) => n + s.artifacts.length, 0));
    const report = await page.locator('[data-section="cost report"] pre').innerText();
    expect(JSON.parse(report).buildId).toBe(finishedId);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, 'build-finished.png'), fullPage: true });
    await page.close();
  });

  it('downloads an artifact through the server', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(`${farm.url}/#/builds/${finishedId}`);
    const link = page.locator('.artifacts a', { hasText: 'dist/hello.txt' });
    // Act
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    // Assess
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('Hello, farm!\n');
    await page.close();
  });

  it('follows a running build live, with its running stage and its log', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${farm.url}/#/builds/${runningId}`);
    const packageNode = page.locator('.stage-node[data-stage="package"]');
    await packageNode.waitFor();
    await expect.poll(() => packageNode.getAttribute('class')).toContain('status-running');
    // Act: open the running stage's log, then let the stage finish.
    await packageNode.click();
    await expect.poll(() => page.locator('#log').innerText()).toContain('$ sh scripts/package.sh');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, 'build-running.png'), fullPage: true });
    farm.runner.release();
    // Assess: the page updates by itself to the finished state.
    await expect.poll(() => page.locator('.title-row .pill').innerText(), { timeout: 15_000 }).toBe('Passed');
    await page.close();
  });

  it('opens a failed build on the failing stage, with its error and its log', async () => {
    // Prepare
    const failedId = 'octo-org_hello-farm-failed';
    await farm.farm.start(failedId, { buildId: failedId, request: pushRequest({ message: 'Break the greeting' }) });
    await farm.farm.settled(failedId);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Act
    await page.goto(`${farm.url}/#/builds/${failedId}`);
    await page.locator('.stage-node').first().waitFor();
    // Assess
    expect(await page.locator('.title-row .pill').innerText()).toBe('Failed');
    expect(await page.locator('tr[data-stage="test"] .reason').innerText()).toContain('CommandFailed (exit 1)');
    expect(await page.locator('.stage-node[data-stage="package"]').getAttribute('class')).toContain('status-skipped');
    await expect.poll(() => page.locator('#log').innerText()).toContain('error: greeting.txt is empty');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, 'build-failed.png'), fullPage: true });
    await page.close();
  });

  it('lays out on a phone-sized screen', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    // Act
    await page.goto(`${farm.url}/#/builds/${finishedId}`);
    await page.locator('.stage-node').first().waitFor();
    // Assess: nothing wider than the screen.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(SCREENSHOTS, 'build-phone.png'), fullPage: true });
    await page.close();
  });
});
