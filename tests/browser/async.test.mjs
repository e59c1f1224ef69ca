// The async topics in headless Chromium, beyond their defaults (catalog.test.mjs), driven through
// the page: edited parameters, with the service worker answering the simulated network, offline,
// Stop, in a page without cross-origin isolation, and inside an iframe on an ordinary site.
// Screenshots go to test-results/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { chromium } from 'playwright-core';

import {
  CHROMIUM_ARGS,
  EXPECTED_NETWORK_NOISE,
  assertRunPassed,
  checks,
  onPage,
  openPage,
  runAndWait,
  runFromForm,
  shoot,
  shownRun,
  table,
  textOf,
  timings,
  useBrowser,
} from './harness.mjs';

const env = useBrowser();

/**
 * Edited parameters per topic (typed into the form), and what the run must then show.
 * @type {Record<string, import('./harness.mjs').FormEdits>}
 */
const EDITED = {
  kitchen: {
    values: { time_scale: 0.03 },
    expect: { sequential: /every step added up/, concurrent: /the longer dish/ },
  },
  'async-basics': {
    values: { names: 'Ada, Grace, Alan, Barbara', wait_s: 0.5 },
    expect: { gathered: /^4 tasks: Ada, Grace, Alan, Barbara/ },
  },
  'async-fetch': {
    values: { urls: 'sim/delay/0.5, sim/status/500, sim/xml, sim/blackhole', timeout_s: 0.4, time_scale: 0.5 },
    expect: { gathered: /^2 of 4 answered 2xx\/3xx/ },
  },
  'async-stream': {
    values: { records: 5, interval_ms: 50 },
    select: { storage: 'memory' },
    expect: { stream: /^5 records written/ },
  },
  'background-tasks': {
    values: { tasks: 12, seed: 3 },
    expect: { background: /^12 tasks finished, 0 left in the set/ },
  },
  'async-queue': {
    values: { items: 12, max_size: 3, consumers: 3, consume_ms: 60 },
    expect: { queue: /consumer 1: \d+, consumer 2: \d+, consumer 3: \d+/ },
  },
  'async-pipeline': {
    values: { items: 5, buffer: 1, time_scale: 0.3 },
    expect: { bounded: /^5 squares; generator at most 1 ahead/ },
  },
  mixed: {
    values: { inputs: 3, limit: 3000000, workers: 2 },
    expect: { pool: /^216816 primes below 3000000/, 'on-loop': /^216816 primes/ },
  },
  scraper: {
    values: {
      urls: 'sim/site/shop, sim/site/blog/3, sim/site/missing, http://127.0.0.1:9/',
      concurrency: 2,
      politeness_s: 0.2,
    },
    expect: { scrape: /^2 of 4 pages fetched/ },
  },
};

/**
 * Opens a topic in a page controlled by the service worker (registered, then reloaded).
 * @param {string} base
 * @param {string} query
 */
async function openControlled(base, query) {
  const opened = await openPage(env.browser, `${base}index.html?${query}`);
  const controlled = await opened.page.evaluate(async () => {
    const inPage = './js/service-worker.js'; // relative to the page, not to this file
    /** @type {typeof import('../../www/js/service-worker.js')} */
    const serviceWorker = await import(inPage);
    return serviceWorker.registerServiceWorker();
  });
  assert.equal(controlled, true, 'the service worker controls the page');
  await opened.page.reload();
  await opened.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return opened;
}

describe('async topics, page controlled by the service worker', () => {
  for (const [id, edits] of Object.entries(EDITED)) {
    test(`${id}: edited parameters typed into the form`, () =>
      onPage(
        () => openControlled(env.url, `topic=${id}`),
        async (session) => {
          await runFromForm(session.page, { ...edits, shot: `${id}-edited` });
        },
        { ignore: EXPECTED_NETWORK_NOISE },
      ));
  }

  test('async-fetch: requests are real fetches answered by the service worker; errors stay per request', () =>
    onPage(
      () => openControlled(env.url, 'topic=async-fetch'),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        const rows = (await table(page, 'Requests (gathered)')) ?? assert.fail('no table Requests (gathered)');
        assert.equal(rows.length, 7);
        const byUrl = Object.fromEntries(rows.map((r) => [r[1], r]));
        assert.equal(byUrl['sim/delay/1'][2], '200');
        assert.equal(byUrl['sim/delay/1'][6], 'service worker');
        assert.equal(byUrl['sim/status/404'][2], '404');
        assert.match(byUrl['sim/blackhole'][2], /timed out/);
        assert.match(byUrl['https://unreachable.invalid/'][2], /blocked by the browser \(CORS\) or unreachable/);
      },
    ));

  test('Stop pressed while a run waits for the service worker to warm up ends that run', () =>
    onPage(
      () => openControlled(env.url, 'topic=cpu-map'),
      async ({ page }) => {
        // The first run on a controlled page waits (up to 3 s) for the service worker's wasm.
        await page.click('#run');
        await page.waitForFunction(() => document.body.dataset.running === 'true');
        await page.click('#stop');
        await page.waitForFunction(() => !document.body.dataset.running, null, { timeout: 30_000 });
        const stopped = await textOf(page, '#results');
        assert.match(stopped, /^Stopped (before the run started|after)/);
        assert.doesNotMatch(stopped, /restarted/);
        assert.match(await runAndWait(page), /^Finished/);
      },
    ));

  test('offline: the page reloads from the cache and the simulated network still answers', () =>
    onPage(
      () => openControlled(env.url, 'topic=async-fetch'),
      async ({ page, context }) => {
        // A visit long enough for the service worker to have loaded its wasm (2 s, when idle).
        await page.waitForSelector('body[data-service-worker="warm"]', { timeout: 30_000 });
        await context.setOffline(true);
        await page.reload();
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        assert.match(await runAndWait(page), /^Finished/);
        const rows = (await table(page, 'Requests (gathered)')) ?? assert.fail('no table Requests (gathered)');
        assert.equal(rows[0][2], '200');
        assert.equal(rows[0][6], 'service worker');
        for (const check of await checks(page)) assert.ok(check.ok, check.text);
      },
      { ignore: EXPECTED_NETWORK_NOISE },
    ));

  test('scraper: titles and links from the simulated site, error pages on their own rows, a JSON download', () =>
    onPage(
      () => openControlled(env.url, 'topic=scraper'),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        const rows = (await table(page, 'Pages')) ?? assert.fail('no table Pages');
        const byUrl = Object.fromEntries(rows.map((r) => [r[1], r]));
        assert.equal(byUrl['sim/site/index'][5], 'Sim Shop & Blog: home');
        assert.equal(byUrl['sim/site/blog/2'][5], 'Post 2: queues & back-pressure');
        assert.equal(byUrl['sim/site/shop'][6], '10');
        assert.equal(byUrl['sim/site/index'][7].split('\n')[0], 'sim/site/about', 'the links themselves are listed');
        assert.equal(byUrl['sim/site/old-page'][2], '404');
        assert.equal(byUrl['sim/site/broken'][2], '500');
        assert.match(byUrl['sim/blackhole'][2], /timed out/);
        const note = (await timings(page)).scrape.note;
        assert.match(note, /at most [123] requests at once/);
        assert.equal(await page.textContent('a[download="pages.json"]'), 'Download pages.json');
      },
    ));

  test('async-stream: Stop in the middle still closes the file (OPFS in the engine worker)', () =>
    onPage(
      () => openControlled(env.url, 'topic=async-stream&records=200&interval_ms=50'),
      async ({ page }) => {
        const status = await runAndWait(page, { stopAfterMs: 700 });
        assert.match(status, /^Stopped/, status);
        const log = (await page.textContent('pre.log')) ?? '';
        assert.match(log, /opened async-stream\.jsonl in browser storage \(OPFS\)/);
        assert.match(log, /closed async-stream\.jsonl \(\d+ lines/);
        assert.equal(await page.textContent('a[download="async-stream.jsonl"]'), 'Download async-stream.jsonl');
        for (const check of await checks(page)) assert.ok(check.ok, check.text);
        await shoot(page, 'async-stream-stopped');
      },
      { ignore: EXPECTED_NETWORK_NOISE },
    ));
});

describe('async topics without cross-origin isolation', () => {
  for (const id of ['kitchen', 'async-fetch', 'mixed', 'scraper']) {
    test(`${id}: runs in a page that is not isolated`, () =>
      onPage(
        () => openPage(env.browser, `${env.plainUrl}index.html?topic=${id}`),
        async ({ page }) => {
          assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
          await runAndWait(page);
          // Modes that need threads (async-fetch's thread pool) say they are unavailable here.
          assertRunPassed(await shownRun(page), '', { threads: false });
        },
        { ignore: EXPECTED_NETWORK_NOISE },
      ));
  }

  test('async-fetch and scraper run inside an iframe on an ordinary course site', () =>
    onPage(
      async () => {
        // A course site on the public internet embedding a playground on another public host. Here
        // the playground is on 127.0.0.1, which Chromium shields from public pages (local network
        // access checks); a separate browser without those checks stands in for two public hosts.
        const publicBrowser = await chromium.launch({
          executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
          args: [
            ...CHROMIUM_ARGS,
            '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessForNavigations',
          ],
        });
        const page = await (await publicBrowser.newContext({ viewport: { width: 1100, height: 1400 } })).newPage();
        /** @type {string[]} */
        const errors = [];
        return { page, errors, close: () => publicBrowser.close() };
      },
      async ({ page }) => {
        await page.route('https://course.example/**', (route) =>
          route.fulfill({
            contentType: 'text/html',
            body: `<!doctype html><title>A course</title><h1>Lesson 4: async</h1>
            <iframe id="demo" src="${env.plainUrl}index.html?topic=async-fetch" width="1000" height="1200"></iframe>`,
          }),
        );
        await page.goto('https://course.example/lesson');
        const frame =
          (await (await page.waitForSelector('#demo')).contentFrame()) ?? assert.fail('no playground frame');
        await frame.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        assert.equal(await frame.evaluate(() => self.crossOriginIsolated), false);
        for (const id of ['async-fetch', 'scraper']) {
          if (id !== 'async-fetch') {
            await frame.goto(`${env.plainUrl}index.html?topic=${id}`);
            await frame.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
          }
          await frame.click('#run');
          await frame.waitForFunction(() => document.body.dataset.running === 'true', null, { timeout: 10_000 });
          await frame.waitForFunction(() => !document.body.dataset.running, null, { timeout: 60_000 });
          assert.match((await frame.textContent('#results .status')) ?? '', /^Finished/);
          for (const check of await checks(frame)) assert.ok(check.ok, check.text);
        }
        await shoot(page, 'scraper-in-iframe');
      },
    ));
});
