/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the page loads, the charts draw what the store holds, the range picker and
 * live polling work, no console errors. Screenshots (desktop and phone widths) go to
 * .test-results/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardServer, type DashboardServer, HistoryRecorder } from '../src/index.js';
import { type FixtureStores, makeStores } from './fixture.js';

const CHROMIUM = process.env['WANCTL_CHROMIUM'] ?? '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../.test-results/screenshots/', import.meta.url));

let dir: string;
let fx: FixtureStores;
let server: DashboardServer;
let browser: BrowserContext;
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`,
    );
  dir = mkdtempSync(join(tmpdir(), 'wanctl-history-browser-'));
  // two hours ending a minute ago, so the relative ranges and live polling show them
  fx = await makeStores(dir, Math.floor(Date.now() / 1000) * 1000 - 60_000, 120);
  server = await createDashboardServer({ files: [fx.wanFile, fx.steeringFile], port: 0 });
  // a fresh profile directory of this test run (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openPage(width: number, height: number, query: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('rows at'));
  return page;
}

const points = (page: Page, chart: string, cls: string) =>
  page.$eval(`${chart} path.line.${cls}`, (p) => Number(p.getAttribute('data-points')));

describe('dashboard in headless Chromium', () => {
  it('draws the stored evening: rates, delta with zone bands, steering period and markers', async () => {
    const from = Math.floor(fx.start / 1000);
    const to = Math.ceil(fx.end / 1000);
    const page = await openPage(1280, 900, `?from=${from}&to=${to}`);
    const status = (await page.textContent('#status')) ?? '';
    // two hours of minutes (the first and last minute may be partial: not in the range / not downsampled yet)
    const rows = Number(/· (\d+) rows at 1 min/.exec(status)?.[1]);
    expect(rows).toBeGreaterThanOrEqual(118);
    expect(rows).toBeLessThanOrEqual(121);
    // one point per stored minute on each line
    expect(await points(page, '#chart-dl', 'shaped')).toBe(rows);
    expect(await points(page, '#chart-dl', 'achieved')).toBe(rows);
    expect(await points(page, '#chart-dl', 'peak')).toBe(rows);
    expect(await points(page, '#chart-ul', 'shaped')).toBe(rows);
    expect(await points(page, '#chart-delta', 'dmean')).toBe(rows);
    // the congested stretch draws yellow..red zone bands, the rest green
    const zones = await page.$$eval('#chart-delta rect.zone', (r) => r.map((e) => e.getAttribute('class')));
    expect(zones).toContain('zone z1');
    expect(zones).toContain('zone z4');
    expect(await page.$$eval('#chart-delta path.band', (p) => p.length)).toBe(1);
    // one steering period on every chart, with its reason
    const steer = await page.$$eval('#chart-dl rect.steer title', (t) => t.map((e) => e.textContent));
    expect(steer).toHaveLength(1);
    expect(steer[0]).toMatch(/steered .* RED 2 cycles: delta 48 ms/);
    // markers: restart, write failure, failover, failback
    const markers = await page.$$eval('#chart-dl line.marker', (l) => l.map((e) => e.getAttribute('class')));
    expect(markers.sort()).toEqual([
      'marker failback',
      'marker failover',
      'marker restart',
      'marker write_failure',
    ]);
    // the events table and the evening summary
    expect(await page.$$eval('#events-table tbody tr.ev.failover', (r) => r.length)).toBe(1);
    expect(await page.textContent('#events-table')).toContain('REST: connection refused');
    // the per-day summary (the evening window may not be in these two hours)
    await page.check('#whole-days');
    await page.waitForFunction(() => document.querySelector('#summary-title')?.textContent === 'Days');
    await page.waitForFunction(() => (document.querySelectorAll('#summary-table tbody tr').length ?? 0) >= 1);
    // (two rows when the two hours span midnight)
    const days = await page.$$eval('#summary-table tbody tr', (rows) =>
      rows.map((r) => Array.from(r.querySelectorAll('td'), (e) => e.textContent ?? '')),
    );
    expect(days.every((d) => d[1] === 'cable')).toBe(true);
    const steered = days.reduce((a, d) => a + Number.parseInt(d[9] ?? '0', 10), 0);
    expect(steered).toBeGreaterThanOrEqual(24);
    expect(steered).toBeLessThanOrEqual(26);
    expect(days.reduce((a, d) => a + Number(d[10]), 0)).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'dashboard-desktop.png'), fullPage: true });
    await page.close();
  });

  it('the range picker: a 10-minute custom range at 1 s, then the 6h button', async () => {
    const page = await openPage(1280, 900, '?span=3600');
    expect(await page.textContent('#status')).toMatch(/rows at 1 min/);
    // custom range: the ten minutes before the end of the data
    const a = new Date(fx.end - 10 * 60_000);
    const b = new Date(fx.end);
    const local = (d: Date) =>
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    await page.fill('#from', local(a));
    await page.fill('#to', local(b));
    await page.click('#custom button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('at 1 s'));
    const n = await points(page, '#chart-dl', 'shaped');
    // whole minutes from the inputs: 9 or 10 minutes of one-second rows
    expect(n).toBeGreaterThanOrEqual(9 * 60 - 1);
    expect(n).toBeLessThanOrEqual(10 * 60 + 1);
    expect(await page.$$eval('.ranges button.active', (b) => b.length)).toBe(0);
    await page.click('.ranges button[data-span="21600"]');
    await page.waitForFunction(() => document.querySelector('.ranges button.active')?.textContent === '6h');
    await page.waitForFunction(() =>
      /· 12\d rows at 1 min/.test(document.querySelector('#status')?.textContent ?? ''),
    );
    expect(await points(page, '#chart-delta', 'dmean')).toBeGreaterThanOrEqual(119);
    await page.close();
  });

  it('live: rows written while the page is open appear at the next poll', async () => {
    const page = await openPage(1280, 900, '?span=900');
    const lastBefore = await page.$eval('#chart-dl svg', (s) => Number(s.getAttribute('data-last')));
    expect(lastBefore).toBeLessThanOrEqual(Math.ceil(fx.end / 1000));
    // the daemon goes on: 30 more seconds, written through the worker thread
    const rec = HistoryRecorder.open({ file: fx.wanFile, wan: 'cable', kind: 'autorate', timers: false });
    const t0 = fx.end + 1000;
    for (let i = 0; i < 600; i++)
      rec.cycle(t0 + i * 50, {
        shapedDlBps: 250e6,
        shapedUlBps: 20e6,
        achievedDlBps: 100e6,
        achievedUlBps: 5e6,
        rttMs: 20,
        baselineMs: 18,
        deltaMs: 2,
        zoneDl: 'GREEN',
        zoneUl: 'GREEN',
        overrun: false,
      });
    await rec.close();
    // the window slides with the clock; the newest second drawn must become the last one written
    const last = Math.floor((t0 + 599 * 50) / 1000);
    await page.waitForFunction(
      (l) => Number(document.querySelector('#chart-dl svg')?.getAttribute('data-last')) === l,
      last,
      { timeout: 15_000 },
    );
    expect(await page.textContent('#status')).toMatch(/rows at 1 s .* · live$/);
    await page.close();
  }, 30_000);

  it('is readable at phone width (no horizontal overflow of the charts)', async () => {
    const page = await openPage(
      390,
      844,
      `?from=${Math.floor(fx.start / 1000)}&to=${Math.ceil(fx.end / 1000)}`,
    );
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const svgWidth = await page.$eval('#chart-dl svg', (s) => s.getBoundingClientRect().width);
    expect(svgWidth).toBeGreaterThan(300);
    expect(await points(page, '#chart-dl', 'shaped')).toBeGreaterThanOrEqual(118);
    await page.screenshot({ path: join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    await page.close();
  });

  it('no console errors, failed requests or page errors on any page', () => {
    expect(errors).toEqual([]);
  });
});
