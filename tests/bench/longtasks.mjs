// The page's main thread during runs: the longest task (PerformanceObserver 'longtask', which
// reports every task over 50 ms) while each topic runs at its defaults, and while the topics with
// the largest timelines run at the form's limits. Target: none over 50 ms.
// Part of tests/bench/browser-bench.mjs; `node tests/bench/longtasks.mjs` runs it alone.

import { pathToFileURL } from 'node:url';
import { launch, openPage, runAndWait, startServer } from '../browser/harness.mjs';

/** Runs at the form's limits: the most spans, lanes and samples a learner can ask for. */
export const AT_LIMITS = [
  ['race', { threads: 64, withdrawals: 500, pause_ms: 0.5 }],
  ['race', { threads: 64, withdrawals: 1562, pause_ms: 0 }],
  ['io-compare', { count: 1000, latency_ms: 5, pool: 64 }],
];

/**
 * Presses Run on a fresh page of `topic` and returns the longest main-thread task from the press
 * until 1 s after the result is shown (its drawing included); the page's own start is not counted.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url the server's address
 * @param {string} topic
 * @param {Record<string, number>} [params]
 */
export async function longestTask(browser, url, topic, params = {}) {
  const query = new URLSearchParams({ topic, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const { page, context } = await openPage(browser, `${url}index.html?${query}`);
  try {
    await page.waitForTimeout(2500); // what the engine starts after "ready" (warm threads and workers)
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.benchLongest = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.benchLongest = Math.max(w.benchLongest, entry.duration);
      }).observe({ type: 'longtask' });
    });
    const status = await runAndWait(page, { timeout: 600_000 });
    await page.waitForTimeout(1000);
    const longest = await page.evaluate(() => /** @type {any} */ (window).benchLongest);
    const nodes = await page.evaluate(() => document.querySelectorAll('#results *').length);
    return { longest, nodes, finished: /^Finished/.test(status) };
  } finally {
    await context.close();
  }
}

/**
 * Every topic of the catalog at its defaults, then `AT_LIMITS`; prints one row each.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {(what: string, value: string, target?: string) => void} row
 */
export async function longTaskFigures(browser, url, row) {
  const { page, context } = await openPage(browser, `${url}index.html`);
  const topics = await page.$$eval('#topics a[data-topic]', (links) => links.map((a) => a.getAttribute('data-topic') ?? ''));
  await context.close();
  console.log("\nlongest task on the page's main thread during a run (fresh page each; 0 = none over 50 ms)");
  const all = [];
  for (const [topic, params] of [...topics.map((t) => /** @type {[string, Record<string, number>]} */ ([t, {}])), ...AT_LIMITS]) {
    const { longest, nodes, finished } = await longestTask(browser, url, topic, params);
    all.push(longest);
    const what = Object.keys(params).length ? `${topic} ${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}` : `${topic} (defaults)`;
    row(`${what}${finished ? '' : ' [did not finish]'}`, `${longest.toFixed(0)} ms`, `target <= 50 ms (${nodes} elements in the results)`);
  }
  row('longest of all the runs above', `${Math.max(...all).toFixed(0)} ms`, 'target <= 50 ms');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startServer();
  const browser = await launch();
  try {
    await longTaskFigures(browser, server.url, (what, value, target = '') => console.log(`${what.padEnd(58)} ${String(value).padStart(14)}  ${target}`));
  } finally {
    await browser.close();
    await server.close();
  }
}
