// The page's main thread during runs: the longest task (PerformanceObserver 'longtask', which
// reports every task over 50 ms) while each topic runs at its defaults, and while the topics with
// the largest timelines run at the form's limits. Target: none over 50 ms.
// Next to it, the most CPU time one task took (from a Chrome trace): on a machine shared with
// other work, or during a run of 64 busy threads on 2 cores, a task waits for a core and its wall
// time grows though the page asks for little; the CPU time says what the page itself costs.
// Part of tests/bench/browser-bench.mjs; `node tests/bench/longtasks.mjs` runs it alone.

import { pathToFileURL } from 'node:url';
import { launch, openPage, runAndWait, startServer } from '../browser/harness.mjs';

/** Runs at the form's limits: the most spans, lanes and samples a learner can ask for. */
/** @type {[topic: string, params: Record<string, number>][]} */
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
  const query = new URLSearchParams({
    topic,
    ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
  });
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
    await browser.startTracing(page, { categories: ['disabled-by-default-devtools.timeline'] });
    const status = await runAndWait(page, { timeout: 600_000 });
    await page.waitForTimeout(1000);
    const longest = await page.evaluate(() => /** @type {any} */ (window).benchLongest);
    const nodes = await page.evaluate(() => document.querySelectorAll('#results *').length);
    return {
      longest,
      cpu: mostCpu(JSON.parse((await browser.stopTracing()).toString())),
      nodes,
      finished: /^Finished/.test(status),
    };
  } finally {
    await context.close();
  }
}

/**
 * The most CPU time (ms) one task of the page's main thread took in a trace: the busiest
 * renderer main thread's top-level tasks, by their thread time.
 * @param {{traceEvents: any[]}} trace
 */
function mostCpu({ traceEvents }) {
  const mains = new Set(
    traceEvents
      .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  /** @type {Map<string, number[]>} */
  const tasks = new Map();
  for (const e of traceEvents) {
    const thread = `${e.pid}:${e.tid}`;
    if (e.name === 'RunTask' && e.ph === 'X' && mains.has(thread))
      tasks.set(thread, [...(tasks.get(thread) ?? []), (e.tdur ?? 0) / 1000]);
  }
  const busiest = [...tasks.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  return Math.max(0, ...busiest);
}

/**
 * Every topic of the catalog at its defaults, then `AT_LIMITS`; prints one row each.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {(what: string, value: string, target?: string) => void} row
 */
export async function longTaskFigures(browser, url, row) {
  const { page, context } = await openPage(browser, `${url}index.html`);
  const topics = await page.$$eval('#topics a[data-topic]', (links) =>
    links.map((a) => a.getAttribute('data-topic') ?? ''),
  );
  await context.close();
  console.log("\nlongest task on the page's main thread during a run (fresh page each; 0 = none over 50 ms)");
  const all = [];
  const cpus = [];
  for (const [topic, params] of [
    ...topics.map((t) => /** @type {[string, Record<string, number>]} */ ([t, {}])),
    ...AT_LIMITS,
  ]) {
    const { longest, cpu, nodes, finished } = await longestTask(browser, url, topic, params);
    all.push(longest);
    cpus.push(cpu);
    const what = Object.keys(params).length
      ? `${topic} ${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`
      : `${topic} (defaults)`;
    row(
      `${what}${finished ? '' : ' [did not finish]'}`,
      `${longest.toFixed(0)} ms`,
      `target <= 50 ms; most CPU in one task ${cpu.toFixed(0)} ms; ${nodes} elements shown`,
    );
  }
  row(
    'longest of all the runs above',
    `${Math.max(...all).toFixed(0)} ms`,
    `target <= 50 ms; most CPU in one task ${Math.max(...cpus).toFixed(0)} ms`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startServer();
  const browser = await launch();
  try {
    await longTaskFigures(browser, server.url, (what, value, target = '') =>
      console.log(`${what.padEnd(58)} ${String(value).padStart(14)}  ${target}`),
    );
  } finally {
    await browser.close();
    await server.close();
  }
}
