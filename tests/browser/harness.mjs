// Shared by the browser tests: serve www/ (with or without isolation headers), start Debian's
// chromium through playwright-core, and collect console errors so tests can insist on none.

import { mkdirSync } from 'node:fs';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';
import { serve } from '../../tools/serve.mjs';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts a static server on a free port; resolves to {url, close}. */
export async function startServer({ isolation = true, root = 'www' } = {}) {
  const server = await serve({ root, port: 0, isolation, quiet: true });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, port, close: () => new Promise((done) => server.close(() => done(undefined))) };
}

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * A new page that records console errors and uncaught exceptions (from workers too).
 * @param {import('playwright-core').Browser} browser
 */
export async function openPage(browser, url, { width = 1280, height = 1000 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('worker', (worker) => worker.on('console', (message) => message.type() === 'error' && errors.push(`[worker] ${message.text()}`)));
  if (url) await gotoReady(page, url);
  return { page, context, errors };
}

/** Navigates and waits until the playground has loaded its catalog. */
export async function gotoReady(page, url) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
}

/**
 * Starts the servers and the browser before a test file's tests and closes them after: `env.url`
 * (isolation headers), `env.plainUrl` (none), `env.browser`.
 */
export function useBrowser() {
  /** @type {{url: string, plainUrl: string, browser: import('playwright-core').Browser}} */
  const env = /** @type {any} */ ({});
  /** @type {{close: () => Promise<unknown>}[]} */
  const open = [];
  before(async () => {
    const [isolated, plain] = await Promise.all([startServer({ isolation: true }), startServer({ isolation: false })]);
    open.push(isolated, plain);
    env.url = isolated.url;
    env.plainUrl = plain.url;
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await Promise.all(open.map((server) => server.close()));
  });
  return env;
}

/**
 * Presses Run (and Stop after `stopAfterMs`, if given) and waits for this run to end: the page
 * counts finished runs in `body.dataset.runs`. Returns the status line's text.
 * @param {import('playwright-core').Page} page
 * @param {{stopAfterMs?: number, timeout?: number}} [options]
 */
export async function runAndWait(page, { stopAfterMs, timeout = 90_000 } = {}) {
  const before = await page.evaluate(() => Number(document.body.dataset.runs ?? 0));
  await page.click('#run');
  if (stopAfterMs !== undefined) {
    await page.waitForFunction(() => document.body.dataset.running === 'true', null, { timeout: 10_000 });
    await page.waitForTimeout(stopAfterMs);
    await page.click('#stop');
  }
  await page.waitForFunction((n) => Number(document.body.dataset.runs ?? 0) > n, before, { timeout });
  return (await page.textContent('#results .status')) ?? '';
}

/** A full-page screenshot in test-results/ (look at them after a run). */
export async function shoot(page, name) {
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

/** A result table by its title: rows of cell texts, or null. */
export async function table(page, title) {
  return page.$$eval(
    'section.result-table',
    (sections, wanted) => {
      const found = sections.find((s) => s.querySelector('h3')?.textContent === wanted);
      return found ? [...found.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')) : null;
    },
    title,
  );
}

/** Reads the timing table: {modeId: {wall, speedup, status, result, lanes}}. */
export async function timings(page) {
  return page.$$eval('table.timings tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((row) => {
        const cells = [...row.querySelectorAll('td')].map((c) => c.textContent ?? '');
        return [/** @type {HTMLElement} */ (row).dataset.mode, { wall: cells[0], speedup: cells[1], lanes: Number(cells[2] || 0), result: cells[3], note: cells[4], status: row.className.replace('mode-', '') }];
      }),
    ),
  );
}

/** The self-checks shown after a run: [{ok, text}]. */
export async function checks(page) {
  return page.$$eval('.checks li', (items) => items.map((li) => ({ ok: li.classList.contains('pass'), text: li.textContent ?? '' })));
}

/** Converts "1.25 s" / "12.3 ms" to milliseconds. */
export function toMs(text) {
  const match = /([\d.]+)\s*(ms|s)/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}
