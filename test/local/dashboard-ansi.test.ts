/**
 * The dashboard's log viewer renders terminal colours (SGR) as classes and drops every other
 * escape sequence, never turning log text into HTML. The browser part serves a mocha-like
 * coloured log for one stage through Playwright's request routing (the farm's own stages print
 * no colours); the page, its scripts and the rest of the API are the real ones.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ansiSegments } from '../../functions/local/dashboard/ansi.js';
import { pushRequest, startTestFarm, type TestFarm } from './support/test-farm.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What mocha's spec reporter prints with colours forced, plus escapes a log must not act on. */
const MOCHA_LOG = [
  '$ npm test',
  '\x1b]0;npm test\x07',
  '\x1b[0m\x1b[0m',
  '\x1b[0m  greeting\x1b[0m',
  '  \x1b[32m  ✔\x1b[0m\x1b[90m says hello\x1b[0m',
  '  \x1b[31m  1) says goodbye\x1b[0m',
  '\x1b[2K\x1b[1G\x1b[92m \x1b[0m\x1b[32m 1 passing\x1b[0m\x1b[90m (4ms)\x1b[0m',
  '\x1b[31m  1 failing\x1b[0m',
  '  \x1b[31mAssertionError: <img src=x onerror="document.title=\'pwned\'"> expected\x1b[0m',
  '\x1b[1;38;5;9mbold 256-colour red\x1b[22;39m plain again \x1b[38;2;1;2;3mtrue colour\x1b[m',
].join('\n');

describe('Function: ansiSegments', () => {
  it('turns SGR into classes and drops other escapes and controls', () => {
    const segments = ansiSegments('a\x1b[1;31mB\x1b[0m\x1b[2Kc\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\x07d\x1b[?25l');
    expect(segments).toEqual([
      { text: 'a', classes: [] },
      { text: 'B', classes: ['ansi-bold', 'ansi-fg-1'] },
      { text: 'clinkd', classes: [] },
    ]);
  });

  it('maps bright, background and the first 16 of 256 colours; leaves the rest uncoloured', () => {
    expect(ansiSegments('\x1b[92;44mx\x1b[38;5;9my\x1b[38;5;200mz\x1b[38;2;9;9;9mw')).toEqual([
      { text: 'x', classes: ['ansi-fg-10', 'ansi-bg-4'] },
      { text: 'y', classes: ['ansi-fg-9', 'ansi-bg-4'] },
      { text: 'zw', classes: ['ansi-bg-4'] },
    ]);
  });
});

describe('Dashboard log viewer (headless Chromium)', () => {
  let farm: TestFarm;
  let browser: Browser;
  const id = 'octo-org_hello-farm-colours';

  beforeAll(async () => {
    farm = await startTestFarm();
    await farm.farm.start(id, { buildId: id, request: pushRequest({ message: 'Colours' }) });
    await farm.farm.settled(id);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await farm?.close();
  });

  it('shows a mocha log in colour, with no escape codes left and no HTML from the log', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.route(/\/api\/builds\/[^/]+\/stages\/test\/log$/, (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: MOCHA_LOG }),
    );
    // Act
    await page.goto(`${farm.url}/#/builds/${id}`);
    await page.locator('.stage-node[data-stage="test"]').click();
    await expect.poll(() => page.locator('#log').innerText()).toContain('1 passing');
    // Assess
    const log = page.locator('#log');
    expect(await log.locator('span.ansi-fg-2').first().innerText()).toContain('✔');
    expect(await log.locator('span.ansi-fg-8').first().innerText()).toContain('says hello');
    expect(await log.locator('span.ansi-fg-1').first().innerText()).toContain('1) says goodbye');
    expect(await log.locator('span.ansi-bold.ansi-fg-9').innerText()).toBe('bold 256-colour red');
    const text = await log.innerText();
    expect(text).not.toMatch(/[\x1b\x07]/);
    expect(text).not.toContain('[0m');
    expect(text).toContain('<img src=x onerror=');
    expect(await log.locator('img').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
    expect(await page.evaluate("getComputedStyle(document.querySelector('#log span.ansi-fg-2')).color")).toBe('rgb(74, 222, 128)');
    await page.close();
  });
});
