// Runs at the form's limits stay light for the page: what the results draw is bounded, however
// many spans, lanes and samples a run records (the time the page's main thread spends on them is
// measured in tests/bench/longtasks.mjs, not here: a test must not depend on the machine's speed).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { onPage, openPage, useBrowser } from './harness.mjs';

const env = useBrowser();

/**
 * Presses Run and waits for the run to end and its timeline to be drawn; meanwhile samples how
 * many elements the results hold. Returns the largest count seen while the run went on.
 * @param {import('playwright-core').Page} page
 */
async function runCountingElements(page) {
  const before = await page.evaluate(() => Number(document.body.dataset.runs ?? 0));
  await page.click('#run');
  let most = 0;
  for (;;) {
    const { nodes, done } = await page.evaluate(
      (n) => ({
        nodes: document.querySelectorAll('#results *').length,
        done: Number(document.body.dataset.runs ?? 0) > n,
      }),
      before,
    );
    if (done) break;
    most = Math.max(most, nodes);
    await page.waitForTimeout(250);
  }
  await page.waitForSelector('#results .timeline[data-drawn="true"]', { timeout: 120_000 });
  return most;
}

test('race at the form limits: 200,000 spans reach the page and the timeline stays a few hundred elements', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=race&threads=64&withdrawals=1562&pause_ms=0`),
    async ({ page }) => {
      const whileRunning = await runCountingElements(page);
      assert.match((await page.textContent('#results .status')) ?? '', /^Finished/);
      // Every withdrawal of both modes is a span, and every span arrived (the table counts them).
      const summary = (await page.textContent('.spans-table summary')) ?? '';
      const spans = Number(/\((\d+) spans\)/.exec(summary)?.[1]);
      assert.ok(spans >= 2 * 64 * 1562, summary);
      // Both modes are summarised on a canvas, with the kinds they hold.
      const charts = await page.$$eval('.timeline-mode .timeline-chart', (list) =>
        list.map((c) => ({
          tag: c.tagName,
          kinds: c.getAttribute('data-kinds'),
          spans: Number(c.getAttribute('data-spans')),
        })),
      );
      assert.equal(charts.length, 2, JSON.stringify(charts));
      for (const chart of charts) assert.ok(chart.tag === 'CANVAS' && chart.spans > 60_000, JSON.stringify(chart));
      assert.match(charts[1].kinds ?? '', /\bio\b/);
      const inTimeline = await page.locator('#results .timeline *').count();
      assert.ok(inTimeline < 300, `${inTimeline} elements in the timeline`);
      const inResults = await page.locator('#results *').count();
      assert.ok(
        inResults < 1500 && whileRunning < 1500,
        `${inResults} elements in the results, ${whileRunning} while running`,
      );
      // The table is the text alternative: a page of rows at a time.
      await page.click('.spans-table summary');
      await page.waitForSelector('.spans-table tbody tr'); // built on the details' toggle event
      assert.equal(await page.locator('.spans-table tbody tr').count(), 200);
      await page.click('.spans-table button.show-more');
      assert.equal(await page.locator('.spans-table tbody tr').count(), 400);
    },
  ));

test('io-compare with 1,000 waits: 1,000 lanes, 40 drawn per mode, the rest named in the table', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=io-compare&count=1000&latency_ms=1&pool=64`),
    async ({ page }) => {
      const whileRunning = await runCountingElements(page);
      assert.match((await page.textContent('#results .status')) ?? '', /^Finished/);
      const lanes = await page.$$eval('.timeline-mode .timeline-chart', (list) =>
        list.map((c) => c.getAttribute('aria-label') ?? ''),
      );
      assert.ok(
        lanes.some((label) => /1000 lanes/.test(label)),
        JSON.stringify(lanes),
      );
      assert.match((await page.textContent('#results .timeline')) ?? '', /\+960 more lanes/);
      const inResults = await page.locator('#results *').count();
      assert.ok(
        inResults < 3000 && whileRunning < 3000,
        `${inResults} elements in the results, ${whileRunning} while running`,
      );
    },
  ));
