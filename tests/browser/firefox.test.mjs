// Firefox (Debian's firefox-esr, headless, over WebDriver BiDi with puppeteer-core): the wasm
// threads self-test, then every topic of the catalog (read from the page) with its defaults,
// every check passing. Firefox once hung here at random (see www/engine/worker-host.js), so the
// catalog is run FIREFOX_PASSES times (default 1), each topic pressed RUNS_PER_PAGE times on one
// page: 2 runs of each topic (the WebKit and embed tests run every topic too).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchFirefox, onPage, shownRun, startServer, testCatalog } from './harness.mjs';

const PASSES = Number(process.env.FIREFOX_PASSES ?? 1);
const RUNS_PER_PAGE = 2;
/** A run that has not ended by then is a hang (the longest default run takes about 5 s). */
const RUN_TIMEOUT_MS = 60_000;

/** @type {{url: string, browser: import('puppeteer-core').Browser, close: () => Promise<unknown>}} */
const env = /** @type {any} */ ({});

before(async () => {
  const server = await startServer({ isolation: true });
  env.url = server.url;
  env.close = server.close;
  env.browser = await launchFirefox();
});

after(async () => {
  await env.browser?.close();
  await env.close?.();
});

/**
 * A new page that records console errors and uncaught exceptions (for `onPage`).
 * @param {string} url
 */
async function openPage(url) {
  const page = await env.browser.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { page, errors, close: () => page.close() };
}

/**
 * Presses Run and waits for that run to end; returns what the page shows of it.
 * @param {import('puppeteer-core').Page} page
 */
async function run(page) {
  const before = await page.evaluate(() => Number(document.body.dataset.runs ?? 0));
  await page.click('#run');
  try {
    await page.waitForFunction(
      (/** @type {number} */ n) => Number(document.body.dataset.runs ?? 0) > n,
      { timeout: RUN_TIMEOUT_MS },
      before,
    );
  } catch {
    const shown = await page
      .$eval('#results', (/** @type {Element} */ e) => (e.textContent ?? '').slice(0, 300))
      .catch(() => '');
    assert.fail(`no end within ${RUN_TIMEOUT_MS / 1000} s: ${shown}`);
  }
  return shownRun(page);
}

describe('Firefox', () => {
  test('the page is cross-origin isolated; wasm threads overlap, locks, conditions and channels work', async () => {
    await onPage(
      () => openPage(`${env.url}diagnostics.html`),
      async ({ page }) => {
        await page.waitForSelector('#selftest tbody tr', { timeout: 30_000 });
        const rows = await page.$$eval('#selftest tbody tr', (trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        );
        assert.equal(rows.length, 4, 'four self-test checks');
        for (const [result, name, detail] of rows) assert.equal(result, 'pass', `${name}: ${detail}`);
        const facts = await page.$$eval('.panel table tbody tr', (trs) =>
          Object.fromEntries(trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))),
        );
        assert.equal(facts['Engine memory is shared'], 'true');
      },
    );
  });

  test("a deadlock that the topic's own watchdog would catch only after 10 s is ended by the engine, which names the waits; the next run works", async () => {
    await onPage(
      () => openPage(`${env.url}index.html?topic=deadlock&watchdog_ms=10000&time_scale=0.3`),
      async ({ page }) => {
        await page.evaluate(() => sessionStorage.setItem('playground.stallMs', '1500'));
        const stalled = await run(page);
        assert.match(
          stalled.status,
          /^Failed: no progress for [\d.]+ s while every thread waited, so the engine ended the run: /,
          stalled.status,
        );
        assert.match(stalled.status, /thread 1 waits for lock [AB].*thread 2 waits for lock [AB]/, stalled.status);
        await page.evaluate(() => sessionStorage.removeItem('playground.stallMs'));
        await page.goto(`${env.url}index.html?topic=deadlock&watchdog_ms=300&time_scale=0.3`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        assert.match((await run(page)).status, /^Finished/);
      },
    );
  });

  for (let pass = 1; pass <= PASSES; pass++) {
    test(`catalog pass ${pass} of ${PASSES}: every topic runs ${RUNS_PER_PAGE} times with its defaults, every check passes`, async (t) => {
      // async-fetch and the scraper ask a host that does not exist on purpose: Firefox logs it.
      await testCatalog(t, {
        url: env.url,
        open: openPage,
        run,
        runs: RUNS_PER_PAGE,
        ignore: /^Error: Cross-Origin Request Blocked: .* at https:\/\/unreachable\.invalid\//,
      });
    });
  }
});
